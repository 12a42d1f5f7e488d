"""A lean HTTP/1.1 transport for httpx2, under the openai client, for direct connections.

httpx2's default transport (httpcore2 with h11) spends about 1 ms of Python per request on this
machine, and more when the CPU has just idled while a model was thinking: over half of what the
assistant itself costs per LLM draft. This transport speaks plain HTTP/1.1 over asyncio streams
with a keep-alive pool per origin, and costs about a tenth of that.

Everything above it is unchanged: the openai client builds the requests, maps status codes and
network errors to its exceptions and parses streams; `LeanAsyncClient` still routes proxied URLs
(HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, minus NO_PROXY) to httpx2's own proxy transports, so only
direct connections come here. TLS uses the same SSL context as before. `[llm] transport = "httpx"`
turns it off.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import httpx2
from httpx2 import USE_CLIENT_DEFAULT, AsyncBaseTransport, Limits

if TYPE_CHECKING:
    from httpx2._client import UseClientDefault
    from httpx2._types import (
        CookieTypes,
        HeaderTypes,
        QueryParamTypes,
        RequestContent,
        RequestData,
        RequestExtensions,
        RequestFiles,
        TimeoutTypes,
    )

_NO_BODY_STATUS = frozenset({204, 304})
_MAX_LINE = 64 * 1024  # a status, header or chunk-size line longer than this is not HTTP
_READ_SIZE = 64 * 1024
_MAX_CACHED_URLS = 64


@dataclass(eq=False)
class _Connection:
    origin: tuple[str, str, int]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = field(default_factory=time.monotonic)

    def usable(self, now: float, expiry: float) -> bool:
        # A server that closed an idle connection has left EOF (or stray bytes) in the reader.
        return (
            now - self.idle_since < expiry
            and not self.writer.is_closing()
            and not self.reader.at_eof()
            and not _buffered(self.reader)
        )

    def close(self) -> None:
        self.writer.close()


def _buffered(reader: asyncio.StreamReader) -> bool:
    # StreamReader keeps no public count of unread bytes; _buffer has been its field since 3.4.
    return bool(getattr(reader, "_buffer", b""))


class LeanAsyncClient(httpx2.AsyncClient):
    """httpx2's AsyncClient with LeanTransport for direct connections.

    Passing `transport=` to httpx2 would switch off proxies from the environment; choosing the
    default transport here (as openai's own aiohttp client does) keeps them.

    It also builds the requests the openai client sends (a bytes body, no form data, files, JSON,
    query parameters, cookies or extensions) with less Python than httpx2 does: the base URL
    merged once per path, the headers normalised once. The Request is the same one httpx2 would
    build; anything else goes through httpx2's own build_request."""

    _merged_urls: tuple[httpx2.URL, dict[str, httpx2.URL]] | None = None

    def build_request(
        self,
        method: str,
        url: httpx2.URL | str,
        *,
        content: RequestContent | None = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any | None = None,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        timeout: TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> httpx2.Request:
        if not (
            isinstance(url, str)
            and isinstance(content, bytes)
            and content
            and data is None
            and files is None
            and json is None
            and not params
            and not cookies
            and not extensions
            and not self.params
            and not self.cookies
        ):
            return super().build_request(
                method,
                url,
                content=content,
                data=data,
                files=files,
                json=json,
                params=params,
                headers=headers,
                cookies=cookies,
                timeout=timeout,
                extensions=extensions,
            )
        merged = self._merged_url(url)
        # httpx2's merge (the client's headers, less those given again, then the given ones) on
        # plain lists: a lookup in a new Headers object decodes every header first.
        given = httpx2.Headers(headers).raw
        replaced = {name.lower() for name, _ in given}
        raw = [(name, value) for name, value in self.headers.raw if name.lower() not in replaced]
        raw += given
        names = {name.lower() for name, _ in raw}
        # What httpx2 adds to a request with a body: Host first, Content-Length last, unless given.
        if b"host" not in names and merged.host:
            raw.insert(0, (b"Host", merged.netloc))
        if b"content-length" not in names and b"transfer-encoding" not in names:
            raw.append((b"Content-Length", b"%d" % len(content)))
        timeout = (
            self.timeout
            if timeout is USE_CLIENT_DEFAULT
            else httpx2.Timeout(cast("TimeoutTypes", timeout))
        )
        request = httpx2.Request(
            method,
            merged,
            headers=raw,
            stream=httpx2.ByteStream(content),
            extensions={"timeout": timeout.as_dict()},
        )
        request.read()
        return request

    def _merged_url(self, url: str) -> httpx2.URL:
        # Parsing and merging a URL is most of what building a request costs; the openai client
        # asks for the same few paths again and again. A new base_url starts a new cache.
        cached = self._merged_urls
        if cached is None or cached[0] is not self.base_url or len(cached[1]) > _MAX_CACHED_URLS:
            cached = self._merged_urls = (self.base_url, {})
        merged = cached[1].get(url)
        if merged is None:
            merged = cached[1][url] = self._merge_url(url)
        return merged

    def _init_transport(
        self,
        verify: ssl.SSLContext | str | bool = True,
        cert: object = None,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: Limits | None = None,
        transport: AsyncBaseTransport | None = None,
        **kwargs: object,
    ) -> AsyncBaseTransport:
        if transport is not None:
            return transport
        if not isinstance(verify, ssl.SSLContext):
            raise TypeError("LeanAsyncClient needs verify=<ssl.SSLContext>")
        return LeanTransport(verify, limits=limits)


class LeanTransport(httpx2.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive over asyncio streams. Use one per event loop."""

    def __init__(self, ssl_context: ssl.SSLContext, *, limits: Limits | None = None) -> None:
        limits = limits or httpx2.Limits()
        self._ssl_context = ssl_context
        self._max_idle = limits.max_keepalive_connections or 20
        self._expiry = limits.keepalive_expiry or 5.0
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._closed = False

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._closed:
            raise RuntimeError("the transport has been closed")
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx2.UnsupportedProtocol(
                f"Request URL has an unsupported scheme {url.scheme!r}."
            )
        timeouts = request.extensions.get("timeout", {})
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        connection = self._checkout(origin) or await self._connect(
            origin, request.extensions.get("sni_hostname"), timeouts.get("connect")
        )
        try:
            await self._send(connection, request, timeouts.get("write"))
            status, reason, headers, persistent = await self._read_head(
                connection, timeouts.get("read")
            )
        except BaseException:
            connection.close()
            raise
        return httpx2.Response(
            status,
            headers=headers,
            stream=_ResponseBody(self, connection, request, status, headers, persistent=persistent),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    async def aclose(self) -> None:
        self._closed = True
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    # The pool -------------------------------------------------------------------------------

    def _checkout(self, origin: tuple[str, str, int]) -> _Connection | None:
        connections = self._idle.get(origin)
        now = time.monotonic()
        while connections:
            connection = connections.pop()
            if connection.usable(now, self._expiry):
                return connection
            connection.close()
        return None

    def _release(self, connection: _Connection) -> None:
        idle = self._idle.setdefault(connection.origin, [])
        if self._closed or len(idle) >= self._max_idle:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    async def _connect(
        self, origin: tuple[str, str, int], sni: str | None, timeout: float | None
    ) -> _Connection:
        scheme, host, port = origin
        tls = self._ssl_context if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=tls,
                    server_hostname=(sni or host) if tls else None,
                    limit=_MAX_LINE,
                )
        except TimeoutError:
            raise httpx2.ConnectTimeout(f"Timed out connecting to {host}:{port}.") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx2.ConnectError(str(exc) or type(exc).__name__) from exc
        return _Connection(origin, reader, writer)

    # One exchange ---------------------------------------------------------------------------

    async def _send(
        self, connection: _Connection, request: httpx2.Request, timeout: float | None
    ) -> None:
        body = await request.aread()
        url = request.url
        lines = [b"%s %s HTTP/1.1\r\n" % (request.method.encode("ascii"), url.raw_path)]
        lines.extend(name + b": " + value + b"\r\n" for name, value in request.headers.raw)
        lines.append(b"\r\n")
        lines.append(body)
        writer = connection.writer
        try:
            writer.write(b"".join(lines))  # one write: head and body leave in the same packets
            if writer.transport.get_write_buffer_size():
                async with asyncio.timeout(timeout):
                    await writer.drain()
        except TimeoutError:
            raise httpx2.WriteTimeout("Timed out sending the request.") from None
        except OSError as exc:
            raise httpx2.WriteError(str(exc) or type(exc).__name__) from exc

    async def _read_head(
        self, connection: _Connection, timeout: float | None
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]], bool]:
        reader = connection.reader
        awaiting_status = True
        try:
            # One timeout for the whole head: it arrives in one packet, and a timer per line
            # was a tenth of this transport's cost.
            async with asyncio.timeout(timeout):
                while True:
                    awaiting_status = True
                    line = await reader.readuntil(b"\n")
                    awaiting_status = False
                    parts = line.rstrip(b"\r\n").split(b" ", 2)
                    if (
                        len(parts) < 2
                        or not parts[0].startswith(b"HTTP/1.")
                        or not parts[1].isdigit()
                    ):
                        raise httpx2.RemoteProtocolError(
                            f"Not an HTTP/1.1 status line: {line[:80]!r}"
                        )
                    status = int(parts[1])
                    headers: list[tuple[bytes, bytes]] = []
                    while (line := await reader.readuntil(b"\n")) not in (b"\r\n", b"\n"):
                        name, colon, value = line.partition(b":")
                        if not colon or not name.strip():
                            raise httpx2.RemoteProtocolError(
                                f"Not an HTTP header line: {line[:80]!r}"
                            )
                        headers.append((name.strip(), value.strip()))
                    if not (100 <= status < 200 and status != 101):
                        break
                    # informational (100 Continue, 103 Early Hints): the answer follows
        except _READ_ERRORS as exc:
            raise _read_failure(exc, nothing_read=awaiting_status) from _cause(exc)
        reason = parts[2] if len(parts) > 2 else b""
        # HTTP/1.0 closes after each answer unless told otherwise; treating it as closing
        # costs one reconnect at most.
        return status, reason, headers, parts[0] == b"HTTP/1.1"


_READ_ERRORS = (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError)


def _read_failure(exc: BaseException, *, nothing_read: bool = False) -> httpx2.TransportError:
    """httpx2's exception for a failed read, so the openai client maps it as it maps httpx2's."""
    if isinstance(exc, TimeoutError):
        return httpx2.ReadTimeout("Timed out waiting for the server's answer.")
    if isinstance(exc, asyncio.IncompleteReadError):
        if nothing_read and not exc.partial:
            return httpx2.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx2.RemoteProtocolError("Server disconnected in the middle of a response.")
    if isinstance(exc, asyncio.LimitOverrunError):
        return httpx2.RemoteProtocolError("The server sent a line too long for HTTP.")
    return httpx2.ReadError(str(exc) or type(exc).__name__)


def _cause(exc: BaseException) -> BaseException | None:
    # An OS error's details (errno, the peer) are worth keeping; asyncio's own are noise.
    return exc if isinstance(exc, OSError) else None


async def _read(read: Awaitable[bytes], timeout: float | None) -> bytes:
    """One read from the server, within the read timeout, failing as httpx2 does."""
    try:
        async with asyncio.timeout(timeout):
            return await read
    except _READ_ERRORS as exc:
        raise _read_failure(exc) from _cause(exc)


class _ResponseBody(httpx2.AsyncByteStream):
    """The body as it arrives, framed by Content-Length, chunked encoding or the connection's
    end; the connection goes back to the pool only once the body has been read to its end."""

    def __init__(
        self,
        transport: LeanTransport,
        connection: _Connection,
        request: httpx2.Request,
        status: int,
        headers: list[tuple[bytes, bytes]],
        *,
        persistent: bool,
    ) -> None:
        self._transport = transport
        self._connection = connection
        self._timeout = request.extensions.get("timeout", {}).get("read")
        self._complete = False
        self._released = False
        lowered = {name.lower(): value.lower() for name, value in headers}
        self._chunked = b"chunked" in lowered.get(b"transfer-encoding", b"")
        length = lowered.get(b"content-length")
        self._length = int(length) if length is not None and length.isdigit() else None
        self._empty = request.method == "HEAD" or status in _NO_BODY_STATUS
        self._reusable = (
            persistent
            and b"close" not in lowered.get(b"connection", b"")
            and (self._empty or self._chunked or self._length is not None)
        )

    async def __aiter__(self) -> AsyncIterator[bytes]:
        reader, timeout = self._connection.reader, self._timeout
        if self._empty:
            pass
        elif self._chunked:
            while True:
                line = await _read(reader.readuntil(b"\n"), timeout)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise httpx2.RemoteProtocolError(
                        f"Bad chunk size line: {line[:40]!r}"
                    ) from None
                if size == 0:
                    while await _read(reader.readuntil(b"\n"), timeout) not in (b"\r\n", b"\n"):
                        pass  # trailers: nothing here reads them
                    break
                yield await _read(reader.readexactly(size), timeout)
                await _read(reader.readuntil(b"\n"), timeout)  # the CRLF after each chunk
        elif self._length is not None:
            remaining = self._length
            while remaining:
                part = await _read(reader.readexactly(min(remaining, _READ_SIZE)), timeout)
                remaining -= len(part)
                yield part
        else:
            while True:
                part = await _read(reader.read(_READ_SIZE), timeout)
                if not part:
                    break
                yield part
        self._complete = True

    async def aclose(self) -> None:
        if self._released:
            return
        self._released = True
        if self._complete and self._reusable:
            self._transport._release(self._connection)
        else:
            self._connection.close()
