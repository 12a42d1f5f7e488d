"""A small OpenAI-compatible server on loopback, for fault tests and benchmarks.

It answers /v1/chat/completions with a well-formed draft or classification (from the JSON schema
the client asked for), or with a scripted fault: a status code with headers, a hang, malformed
JSON, an empty message, a refusal, or a truncated completion. It records every request.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GOOD_DRAFT = {
    "meta_goal": "The customer gets their parcel or money today and trusts us again.",
    "reply": (
        "Hi Priya,\n\nI'm so sorry your tablecloth never arrived. I've sent a replacement today at no cost, "
        "and I'll email you the tracking number this afternoon.\n\nWarm regards,\nSam"
    ),
}
GOOD_CLASSIFICATION = {
    "category": "lost_or_missing",
    "urgency": "medium",
    "sentiment": "frustrated",
    "escalation_signals": [],
    "desired_outcome": "a replacement",
}


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer (as one reading no further than its byte cap does) is
    expected here: no traceback on stderr, where it would land in another test's output."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class Fault:
    """One scripted answer. kind: ok, status, hang, content, refusal, length, page (a 200 whose
    body is `content` as HTML, as a captive portal or misconfigured proxy answers)."""

    kind: str = "ok"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    seconds: float = 0.0
    content: str | None = None


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    seconds: float = 0.0
    """How long the server spent on this request, from its first byte to its last."""
    client_port: int = 0
    """The client's end of the connection: equal ports mean a kept-alive connection was reused."""


class FakeOpenAI:
    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.script: deque[Fault] = deque()
        self.requests: list[Recorded] = []
        self.draft = dict(GOOD_DRAFT)
        self.classification = dict(GOOD_CLASSIFICATION)
        self.judgement: dict[str, Any] = {"findings": []}
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def then(self, *faults: Fault) -> FakeOpenAI:
        self.script.extend(faults)
        return self

    def _next(self) -> Fault:
        with self._lock:
            return self.script.popleft() if self.script else Fault()

    def answer_for(self, body: dict[str, Any]) -> dict[str, Any]:
        """What the schema asks for (in response_format, or appended to the last message): a
        classification, a draft, or both in one answer."""
        messages = body.get("messages") or [{}]
        asked = json.dumps(body.get("response_format") or {}) + str(messages[-1].get("content"))
        if '"findings"' in asked:
            return self.judgement
        wants_draft = '"meta_goal"' in asked
        wants_class = '"escalation_signals"' in asked
        if wants_draft and wants_class:
            return {**self.classification, **self.draft}
        return self.classification if wants_class else self.draft

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes; without this, Nagle's algorithm and
                # delayed ACKs stall each response on loopback.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def parse_request(self) -> bool:
                self._started = time.perf_counter()  # the request line has just arrived
                return super().parse_request()

            def handle_one_request(self) -> None:
                # Timed from the request line's arrival to the response's last byte, never the idle
                # wait for the next request on a kept-alive connection.
                self._started = 0.0
                self._record: Recorded | None = None
                super().handle_one_request()
                if self._record is not None:
                    self._record.seconds = time.perf_counter() - self._started

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if self.path == "/_stats":  # for benchmarks that run this server in another process
                    with fake._lock:
                        seconds = [r.seconds for r in fake.requests]
                    self._json(200, {"seconds": seconds})
                    return
                self._json(
                    200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]}
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                self._record = Recorded(
                    self.path, dict(self.headers), body, client_port=self.client_address[1]
                )
                with fake._lock:
                    fake.requests.append(self._record)
                fault = fake._next()
                if fake.latency:
                    time.sleep(fake.latency)
                if fault.kind == "hang":
                    time.sleep(fault.seconds)
                    self.close_connection = True
                    return
                if fault.kind == "page":
                    data = (fault.content or "").encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if fault.kind == "status":
                    self._json(
                        fault.status,
                        fault.body or {"error": {"message": "scripted failure"}},
                        fault.headers,
                    )
                    return
                content: str | None = json.dumps(fake.answer_for(body))
                finish, refusal = "stop", None
                if fault.kind == "content":
                    content = fault.content
                elif fault.kind == "refusal":
                    content, refusal = None, fault.content or "I can't help with that."
                elif fault.kind == "length":
                    content, finish = (content or "")[:40], "length"
                usage = {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
                if body.get("stream"):
                    self._stream(content or "", finish, usage, refusal)
                    return
                message: dict[str, Any] = {"role": "assistant", "content": content}
                if refusal:
                    message["refusal"] = refusal
                self._json(
                    200,
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "fake-model"),
                        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                        "usage": usage,
                    },
                )

            def _json(
                self, status: int, payload: Any, headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _stream(
                self, content: str, finish: str, usage: dict[str, int], refusal: str | None
            ) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")  # the stream ends when the connection does
                self.close_connection = True
                self.end_headers()
                base = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "fake-model",
                }
                pieces = [content[i : i + 7] for i in range(0, len(content), 7)]
                for piece in pieces:
                    chunk = {
                        **base,
                        "choices": [
                            {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                        ],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                last_delta = {"refusal": refusal} if refusal else {}
                end = {
                    **base,
                    "choices": [{"index": 0, "delta": last_delta, "finish_reason": finish}],
                }
                self.wfile.write(f"data: {json.dumps(end)}\n\n".encode())
                self.wfile.write(
                    f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n".encode()
                )
                self.wfile.write(b"data: [DONE]\n\n")

        return Handler


def main() -> None:
    """Serve on loopback in a process of its own (benchmarks must not share the client's GIL)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    with FakeOpenAI(latency=args.latency) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()  # serve until the parent closes our stdin


if __name__ == "__main__":
    main()
