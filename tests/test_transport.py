"""The lean HTTP/1.1 transport under the openai client: framing, keep-alive, streaming, errors,
TLS and proxies, against scripted servers on loopback, and the assistant on top of it."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import ssl
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest
import trustme

import assistant
from assistant import Settings
from assistant.transport import LeanAsyncClient

from conftest import EXAMPLES, run_cli
from fake_openai import FakeOpenAI, Fault


@dataclass
class Answer:
    """What the server sends for one request: raw bytes, in parts."""

    parts: list[bytes]
    close: bool = False
    """Close the connection after answering."""
    gate: threading.Event | None = None
    """Wait for this before sending the last part."""


@dataclass
class RawServer:
    """A loopback server answering each request with scripted bytes; it counts connections and
    keeps each request's head."""

    tls: ssl.SSLContext | None = None
    answers: deque[Answer] = field(default_factory=deque)
    heads: list[bytes] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/v1/x") -> str:
        scheme = "https" if self.tls else "http"
        host = "localhost" if self.tls else "127.0.0.1"
        return f"{scheme}://{host}:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        if self.tls:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()
                return
        data = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(data) < length:
                    data += conn.recv(65536)
                data = data[length:]
                self.heads.append(head)
                answer = self.answers.popleft()
                for i, part in enumerate(answer.parts):
                    if answer.gate is not None and i == len(answer.parts) - 1:
                        answer.gate.wait(5)
                    conn.sendall(part)
                if answer.close:
                    return

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def server() -> Iterator[RawServer]:
    s = RawServer()
    yield s
    s.close()


def ok(body: bytes, *headers: bytes) -> bytes:
    extra = b"".join(h + b"\r\n" for h in headers)
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def client(**kwargs: object) -> LeanAsyncClient:
    kwargs.setdefault("verify", ssl.create_default_context())
    return LeanAsyncClient(timeout=5, **kwargs)  # type: ignore[arg-type]


def test_one_connection_serves_request_after_request(server: RawServer) -> None:
    server.answers.extend([Answer([ok(b'{"n": 1}')]), Answer([ok(b'{"n": 2}')])])

    async def go() -> list[object]:
        async with client() as c:
            first = await c.post(server.url(), json={"a": 1})
            second = await c.get(server.url("/v1/y?q=1"))
            return [first.json(), second.json(), first.status_code]

    assert asyncio.run(go()) == [{"n": 1}, {"n": 2}, 200]
    assert server.connections == 1
    assert server.heads[0].startswith(b"POST /v1/x HTTP/1.1\r\n")
    assert b"content-length: 7" in server.heads[0].lower()
    assert server.heads[1].startswith(b"GET /v1/y?q=1 HTTP/1.1\r\n")


def test_chunked_answers_arrive_as_they_are_sent(server: RawServer) -> None:
    gate = threading.Event()
    server.answers.append(
        Answer(
            [
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"6;ext=1\r\ndata: \r\n5\r\nfirst\r\n",
                b"6\r\nsecond\r\n0\r\nX-Trailer: yes\r\n\r\n",
            ],
            gate=gate,
        )
    )
    server.answers.append(Answer([ok(b"again")]))

    async def go() -> tuple[bytes, bytes, bytes]:
        async with client() as c:
            async with c.stream("GET", server.url()) as response:
                parts = response.aiter_raw()
                early = b""
                while early != b"data: first":
                    early += await parts.__anext__()  # before the server may send the rest
                gate.set()
                rest = b"".join([p async for p in parts])
            again = await c.get(server.url())
            return early, rest, again.content

    assert asyncio.run(go()) == (b"data: first", b"second", b"again")
    assert server.connections == 1  # the chunked answer ended cleanly, so the connection was kept


def test_an_answer_without_length_ends_with_its_connection(server: RawServer) -> None:
    server.answers.extend(
        [
            Answer([b"HTTP/1.1 200 OK\r\n\r\nuntil ", b"the end"], close=True),
            Answer([ok(b"closing", b"Connection: close")], close=True),
            Answer([b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold"], close=True),
            Answer([ok(b"fresh")]),
        ]
    )

    async def go() -> list[bytes]:
        async with client() as c:
            return [(await c.get(server.url())).content for _ in range(4)]

    assert asyncio.run(go()) == [b"until the end", b"closing", b"old", b"fresh"]
    assert server.connections == 4


def test_a_connection_the_server_closed_while_idle_is_not_reused(server: RawServer) -> None:
    server.answers.extend([Answer([ok(b"one")], close=True), Answer([ok(b"two")])])

    async def go() -> list[bytes]:
        async with client() as c:
            first = await c.get(server.url())
            await asyncio.sleep(0.2)  # the server's close reaches the idle connection
            second = await c.get(server.url())
            return [first.content, second.content]

    assert asyncio.run(go()) == [b"one", b"two"]
    assert server.connections == 2


def test_informational_and_bodiless_answers(server: RawServer) -> None:
    server.answers.extend(
        [
            Answer([b"HTTP/1.1 100 Continue\r\n\r\n", ok(b"after continue")]),
            Answer([b"HTTP/1.1 204 No Content\r\n\r\n"]),
            Answer([b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"]),
            Answer([ok(b"still one connection")]),
        ]
    )

    async def go() -> list[object]:
        async with client() as c:
            a = await c.get(server.url())
            b = await c.get(server.url())
            head = await c.head(server.url())
            d = await c.get(server.url())
            return [a.content, b.status_code, b.content, head.headers["content-length"], d.content]

    assert asyncio.run(go()) == [b"after continue", 204, b"", "4", b"still one connection"]
    assert server.connections == 1


@pytest.mark.parametrize(
    "parts",
    [
        [b"HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 6\r\n\r\nab\r\n\r\n"],
        [b"HTTP/1.1 200 OK\nX-A: 1\nContent-Length: 6\n\nab\r\n\r\n"],  # bare LF throughout
        [b"HTTP/1.1 200 OK\nX-A: 1\r\nContent-Length: 6\r\n\r\nab\r\n\r\n"],  # mixed
        [b"HTTP/1.1 200 OK\r\nX-A: 1\r\nCont", b"ent-Length: 6\r\n\r\nab\r\n\r\n"],  # split
        [b"HTTP/1.1 200 OK\r\nX-A:  1 \r\nContent-Length: 6\r\n\r\n", b"ab\r\n\r\n"],
    ],
)
def test_a_head_is_read_the_same_however_it_arrives(server: RawServer, parts: list[bytes]) -> None:
    """Whether the head is read whole from what has arrived or line by line, and whatever its
    line ends, the status, headers and body come out the same."""
    server.answers.extend([Answer(parts), Answer([ok(b"next")])])

    async def go() -> list[object]:
        async with client() as c:
            r = await c.get(server.url())
            return [r.status_code, r.headers["x-a"], r.content, (await c.get(server.url())).content]

    assert asyncio.run(go()) == [200, "1", b"ab\r\n\r\n", b"next"]
    assert server.connections == 1


def test_compressed_answers_are_decoded_by_httpx(server: RawServer) -> None:
    packed = gzip.compress(json.dumps({"ok": True}).encode())
    server.answers.append(Answer([ok(packed, b"Content-Encoding: gzip")]))

    async def go() -> object:
        async with client() as c:
            return (await c.get(server.url())).json()

    assert asyncio.run(go()) == {"ok": True}


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer([], close=True), "without sending a response"),
        (
            Answer([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"], close=True),
            "middle of a response",
        ),
        (Answer([b"SSH-2.0-OpenSSH_9.6\r\n\r\n"], close=True), "Not an HTTP/1.1 status line"),
        (Answer([b"HTTP/1.1 200 OK\r\nbroken header\r\n\r\n"], close=True), "Not an HTTP header"),
        (
            Answer([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"], close=True),
            "Bad chunk size",
        ),
    ],
)
def test_broken_answers_raise_httpx_errors(server: RawServer, answer: Answer, message: str) -> None:
    server.answers.append(answer)

    async def go() -> None:
        async with client() as c:
            await c.get(server.url())

    with pytest.raises(httpx2.RemoteProtocolError, match=message):
        asyncio.run(go())


def test_a_silent_server_times_out_and_a_closed_port_refuses(server: RawServer) -> None:
    server.answers.append(Answer([ok(b"late")], gate=threading.Event()))

    async def slow() -> None:
        async with client() as c:
            await c.get(server.url(), timeout=0.3)

    with pytest.raises(httpx2.ReadTimeout):
        asyncio.run(slow())

    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()

    async def refused() -> None:
        async with client() as c:
            await c.get(f"http://127.0.0.1:{port}/v1")

    with pytest.raises(httpx2.ConnectError):
        asyncio.run(refused())


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


def test_tls_is_verified_against_the_context_given(authority: trustme.CA) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    server = RawServer(tls=server_context)
    server.answers.append(Answer([ok(b"secret")]))
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)

    async def fetch(context: ssl.SSLContext) -> bytes:
        async with client(verify=context) as c:
            return (await c.get(server.url())).content

    try:
        assert asyncio.run(fetch(trusting)) == b"secret"
        # The system's CAs do not know this one: the certificate is refused, not ignored.
        with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            asyncio.run(fetch(ssl.create_default_context()))
    finally:
        server.close()


def test_proxies_from_the_environment_still_apply(
    server: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy sees the absolute URL in the request line; NO_PROXY hosts are reached directly."""
    server.answers.extend([Answer([ok(b"via proxy")]), Answer([ok(b"direct")])])
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
    monkeypatch.setenv("NO_PROXY", "localhost")

    async def go() -> list[bytes]:
        async with client() as c:
            proxied = await c.get("http://llm.example.invalid/v1/models")
            direct = await c.get(f"http://localhost:{server.port}/v1/models")
            return [proxied.content, direct.content]

    assert asyncio.run(go()) == [b"via proxy", b"direct"]
    assert server.heads[0].startswith(b"GET http://llm.example.invalid/v1/models HTTP/1.1")
    assert server.heads[1].startswith(b"GET /v1/models HTTP/1.1")


def _as_built(request: httpx2.Request) -> tuple[object, ...]:
    return (
        request.method,
        str(request.url),
        request.headers.raw,
        request.content,
        request.extensions,
    )


# What the openai client passes to build_request, then variations on it.
_OPENAI_HEADERS = [
    ("authorization", "Bearer sk-test"),
    ("content-type", "application/json"),
    ("x-stainless-retry-count", "0"),
]
_BUILDS: dict[str, dict[str, object]] = {
    "as openai sends": {"url": "http://127.0.0.1:9/v1/chat/completions"},
    "a path under the base URL": {"url": "chat/completions"},
    "headers replacing the client's": {
        "url": "/v1/x",
        "headers": [
            ("Connection", "close"),
            ("user-agent", "mine"),
            ("X-Twice", "1"),
            ("x-twice", "2"),
        ],
    },
    "a Host of its own": {"url": "/v1/x", "headers": [("Host", "llm.internal")]},
    "bytes and a mapping": {"url": "/v1/x", "headers": {b"X-Raw": b"caf\xc3\xa9", "accept": "*/*"}},
    "a length of its own": {"url": "/v1/x", "headers": [("Content-Length", "2")]},
    "chunked by request": {"url": "/v1/x", "headers": [("Transfer-Encoding", "chunked")]},
    "a timeout of its own": {"url": "/v1/x", "timeout": httpx2.Timeout(3.0, read=9.0)},
    # These take httpx2's own road: the result must be the same all the same.
    "query parameters": {"url": "/v1/x", "params": {"q": "1"}},
    "JSON": {"url": "/v1/x", "content": None, "json": {"a": 1}},
    "no body": {"url": "/v1/x", "content": b""},
    "cookies": {"url": "/v1/x", "cookies": {"session": "abc"}},
    "extensions": {"url": "/v1/x", "extensions": {"sni_hostname": "example.org"}},
}


@pytest.mark.parametrize("case", list(_BUILDS))
def test_requests_are_built_exactly_as_httpx_builds_them(case: str) -> None:
    arguments: dict[str, object] = {"content": b'{"model":"m"}', "headers": _OPENAI_HEADERS}
    arguments.update(_BUILDS[case])
    lean = client(base_url="http://127.0.0.1:9/v1/")
    plain = httpx2.AsyncClient(base_url="http://127.0.0.1:9/v1/", timeout=5)
    for _ in range(2):  # the second time from the merged-URL cache
        assert _as_built(lean.build_request("POST", **arguments)) == _as_built(  # type: ignore[arg-type]
            plain.build_request("POST", **arguments)  # type: ignore[arg-type]
        )


def test_a_client_that_kept_cookies_or_changed_its_base_url_builds_with_them() -> None:
    lean = client(base_url="http://127.0.0.1:9/v1/")
    assert str(lean.build_request("POST", "chat/completions", content=b"{}").url) == (
        "http://127.0.0.1:9/v1/chat/completions"
    )
    lean.base_url = httpx2.URL("http://127.0.0.2:8/v2/")
    lean.cookies.set("__cf_bm", "kept")
    request = lean.build_request("POST", "chat/completions", content=b"{}")
    assert str(request.url) == "http://127.0.0.2:8/v2/chat/completions"
    assert request.headers["Host"] == "127.0.0.2:8"
    assert request.headers["Cookie"] == "__cf_bm=kept"


@pytest.mark.parametrize("transport", ["lean", "httpx"])
def test_the_assistant_drafts_the_same_over_either_transport(transport: str) -> None:
    with FakeOpenAI() as fake:
        fake.then(Fault(), Fault(kind="status", status=503, headers={"Retry-After": "0"}), Fault())
        helper = assistant.Assistant(
            Settings.model_validate(
                {
                    "backend": "openai",
                    "llm": {"base_url": fake.base_url, "model": "m", "transport": transport},
                }
            )
        )
        result = helper.draft("My parcel never arrived. Order 12345. Priya")
    assert result.backend == "openai" and result.reply.startswith("Hi Priya")
    assert [r.path for r in fake.requests] == ["/v1/chat/completions"] * 3  # the 503 was retried


def test_the_cli_takes_the_transport_from_the_config_file(tmp_path: Path) -> None:
    replies = {}
    with FakeOpenAI() as fake:
        for transport in ("lean", "httpx"):
            config = tmp_path / f"{transport}.toml"
            config.write_text(
                f'backend = "openai"\n[llm]\nbase_url = "{fake.base_url}"\nmodel = "m"\n'
                f'transport = "{transport}"\n'
            )
            r = run_cli(
                "--config",
                str(config),
                "draft",
                "--format",
                "json",
                str(EXAMPLES / "01-lost-parcel.txt"),
            )
            assert r.code == 0, r.err
            replies[transport] = json.loads(r.out)["reply"]
        assert len(fake.requests) == 4  # classify and draft, over each transport
    assert replies["lean"] == replies["httpx"] and replies["lean"].startswith("Hi Priya")

    config = tmp_path / "typo.toml"
    config.write_text('[llm]\ntransport = "fast"\n')
    r = run_cli("--config", str(config), "draft", str(EXAMPLES / "01-lost-parcel.txt"))
    assert r.code == 2 and "transport" in r.err and "Traceback" not in r.err
