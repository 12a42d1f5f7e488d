"""The one place that talks to an OpenAI-compatible LLM (OpenAI, Azure, Ollama, vLLM, llama.cpp,
LM Studio): structured output, retries, usage, streaming, and one clear error per failure.

The openai client's own retries are off; tenacity owns them, so every attempt is counted, usage
is summed across attempts, and Retry-After is honoured.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import json
import random
import re
import ssl
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlparse

import httpx2
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import BaseModel, Field, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)

from .config import LLMSettings
from .errors import BackendError, ConfigError
from .models import Usage
from .transport import LeanAsyncClient

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
_COMPLETIONS = b"chat/completions"
Mode = Literal["json_schema", "json_object", "prompt"]
_MODES: tuple[Mode, ...] = ("json_schema", "json_object", "prompt")
Message = dict[str, str]
StreamSink = Callable[[str], None]


def is_loopback_host(host: str) -> bool:
    """A name or address on this machine only (the 127.0.0.0/8 range, ::1, localhost)."""
    return host in ("localhost", "::1") or host.startswith("127.")


def is_loopback(base_url: str | None) -> bool:
    if not base_url:
        return False
    return is_loopback_host(urlparse(base_url).hostname or "")


def endpoint_name(settings: LLMSettings) -> str:
    return settings.base_url or "https://api.openai.com/v1"


@dataclass
class Exchange:
    """What one structured call cost: attempts (HTTP requests) and tokens."""

    attempts: int = 0
    usage_reported: bool = False
    # Plain sums, made into a Usage once at the end: a model per answer cost a validation each.
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @property
    def usage(self) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            total_tokens=self.total_tokens,
        )

    def add(self, usage: Any, limiter: RateLimiter | None = None) -> None:
        if usage is None:
            return
        total = getattr(usage, "total_tokens", 0) or 0
        if limiter is not None:
            limiter.record(total)
        self.usage_reported = True
        self.prompt_tokens += getattr(usage, "prompt_tokens", 0) or 0
        self.completion_tokens += getattr(usage, "completion_tokens", 0) or 0
        self.total_tokens += total


class RateLimiter:
    """Requests per minute and tokens per minute over a sliding minute, shared by every draft a
    batch runs at once."""

    def __init__(self, rpm: int | None = None, tpm: int | None = None) -> None:
        self.rpm, self.tpm = rpm, tpm
        self._requests: collections.deque[float] = collections.deque()
        self._tokens: collections.deque[tuple[float, int]] = collections.deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._requests and now - self._requests[0] >= 60:
                    self._requests.popleft()
                while self._tokens and now - self._tokens[0][0] >= 60:
                    self._tokens.popleft()
                waits = []
                if self.rpm and len(self._requests) >= self.rpm:
                    waits.append(60 - (now - self._requests[0]))
                if self.tpm and sum(t for _, t in self._tokens) >= self.tpm:
                    waits.append(60 - (now - self._tokens[0][0]))
                if not waits:
                    self._requests.append(now)
                    return
                await asyncio.sleep(max(0.01, min(waits)))

    def record(self, tokens: int) -> None:
        if tokens:
            self._tokens.append((time.monotonic(), tokens))


class _Reask(Exception):
    """The model answered, but not with what we asked for; ask again (bounded)."""

    def __init__(self, reason: str, content: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.content = content


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.RateLimitError | openai.APITimeoutError | openai.APIConnectionError):
        return True
    return (
        isinstance(exc, openai.APIStatusError)
        and exc.status_code >= 500
        and not _format_rejected(exc)
    )


def _format_rejected(exc: BaseException) -> bool:
    """The server refused the response_format itself (llama.cpp answers 500 to json_schema)."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422, 500):
        return False
    text = f"{exc} {exc.body}".lower()
    return "response_format" in text or "json_schema" in text


def _retry_after(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    value = response.headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000
        except ValueError:
            return None
    value = response.headers.get("retry-after")
    if value:
        try:
            return float(value)
        except ValueError:
            return None  # an HTTP date: fall back to backoff
    return None


class _Message(BaseModel):
    content: str | None = None
    refusal: str | None = None


class _Choice(BaseModel):
    message: _Message = Field(default_factory=_Message)
    finish_reason: str | None = None


class _Usage(BaseModel):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


class _Completion(BaseModel):
    """The parts of a chat completion this client reads; servers add fields freely."""

    choices: list[_Choice] = Field(default_factory=list)
    usage: _Usage | None = None


@dataclass
class _Call:
    """One structured call's fixed parts, passed down from attempt to attempt."""

    client: openai.AsyncOpenAI
    url: str
    messages: list[Message]
    schema: type[BaseModel]
    mode: Mode
    exchange: Exchange
    stream: StreamSink | None
    stream_field: str


class LLMClient:
    def __init__(
        self, settings: LLMSettings, *, sleep: Callable[[float], Awaitable[None]] | None = None
    ) -> None:
        self.settings = settings
        if not settings.api_key and not is_loopback(settings.base_url) and not settings.base_url:
            raise ConfigError(
                "The openai backend needs an API key: set OPENAI_API_KEY (or llm.api_key)."
            )
        # Local servers (llama.cpp, Ollama) ignore the key but the client insists on one.
        self._api_key = settings.api_key or "sk-no-key-needed"
        self._mode: Mode | None = None if settings.structured == "auto" else settings.structured
        self._sleep = sleep or asyncio.sleep
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, openai.AsyncOpenAI] = (
            weakref.WeakKeyDictionary()
        )
        self._url: tuple[httpx2.URL, str] | None = None
        self.requests = 0  # every HTTP request sent, for the overhead benchmark and tests
        self.limiter: RateLimiter | None = None

    def _client(self) -> openai.AsyncOpenAI:
        # One client per event loop (a connection pool belongs to the loop it was made in), reused
        # across calls so connections are kept alive; all share one SSL context, whose CA store
        # costs tens of milliseconds to load.
        loop = asyncio.get_running_loop()
        client: openai.AsyncOpenAI | None = self._clients.get(loop)
        if client is None:
            http_client = (
                LeanAsyncClient(verify=_ssl_context(), follow_redirects=True)
                if self.settings.transport == "lean"
                else openai.DefaultAsyncHttpx2Client(verify=_ssl_context())
            )
            client = openai.AsyncOpenAI(
                api_key=self._api_key,
                base_url=self.settings.base_url,
                timeout=self.settings.timeout,
                max_retries=0,
                http_client=http_client,
            )
            self._clients[loop] = client
        return client

    def _completions_url(self, client: openai.AsyncOpenAI) -> str:
        # Absolute, as the openai client would merge it with its base URL: it then parses one URL
        # a request instead of two.
        base = client.base_url
        if self._url is None or self._url[0] is not base:
            self._url = (base, str(base.copy_with(raw_path=base.raw_path + _COMPLETIONS)))
        return self._url[1]

    # Public entry points -------------------------------------------------------------------

    async def astructured(
        self,
        messages: list[Message],
        schema: type[M],
        *,
        exchange: Exchange | None = None,
        stream: StreamSink | None = None,
        stream_field: str = "reply",
    ) -> M:
        """Ask for an instance of `schema`. Retries transient failures, re-asks on invalid output,
        and steps down from json_schema to json_object to prompt-and-parse where a server refuses."""
        exchange = exchange if exchange is not None else Exchange()
        client = self._client()
        modes = [self._mode] if self._mode else list(_MODES)
        last_error: Exception | None = None
        for mode in modes:
            try:
                result = await self._with_reasks(
                    client, messages, schema, mode, exchange, stream, stream_field
                )
            except openai.APIStatusError as exc:
                if self._mode is None and _format_rejected(exc):
                    last_error = exc
                    continue  # this server does not take that response_format; try the next
                raise self._explain(exc, exchange) from None
            self._mode = mode
            return result
        raise self._explain(
            last_error or BackendError("no structured output mode worked"), exchange
        )

    # Internals -----------------------------------------------------------------------------

    async def _with_reasks(
        self,
        client: openai.AsyncOpenAI,
        messages: list[Message],
        schema: type[M],
        mode: Mode,
        exchange: Exchange,
        stream: StreamSink | None,
        stream_field: str,
    ) -> M:
        conversation = list(messages)
        for reask in range(self.settings.max_reasks + 1):
            call = _Call(
                client,
                self._completions_url(client),
                conversation,
                schema,
                mode,
                exchange,
                stream,
                stream_field,
            )
            try:
                return _parse(await self._attempts(call), schema)
            except _Reask as problem:
                if reask == self.settings.max_reasks:
                    raise BackendError(
                        f"The model at {endpoint_name(self.settings)} did not return a valid answer after "
                        f"{reask + 1} tries ({problem.reason})."
                    ) from None
                conversation = [
                    *messages,
                    {"role": "assistant", "content": problem.content[:4000]},
                    {
                        "role": "user",
                        "content": f"That was not valid: {problem.reason}. Answer again with only the JSON object "
                        f"with these fields: {', '.join(schema.model_fields)}.",
                    },
                ]
        raise AssertionError("unreachable")

    async def _attempts(self, call: _Call) -> str:
        settings = self.settings
        started = time.monotonic()
        try:
            try:
                return await self._attempt(call)
            except Exception as exc:
                if not _retryable(exc):
                    raise
                failed: Exception | None = exc
            # Most calls succeed at once, so tenacity is set up only now (it costs about 0.1 ms a
            # call on a CPU that idled while the model thought). It is handed the first failure as
            # its own first attempt, and the time that attempt took comes off its time bound, so
            # its retry, wait and stop decide exactly as if it had run that attempt itself.
            retrying = AsyncRetrying(
                retry=retry_if_exception(_retryable),
                stop=stop_after_attempt(settings.max_attempts)
                | stop_after_delay(settings.max_retry_seconds - (time.monotonic() - started)),
                wait=self._wait,
                sleep=self._sleep,
                reraise=True,
            )
            async for attempt in retrying:
                with attempt:
                    if failed is not None:
                        first, failed = failed, None
                        raise first
                    return await self._attempt(call)
        except openai.APIStatusError as exc:
            if _format_rejected(exc):
                raise
            raise self._explain(exc, call.exchange) from None
        except openai.OpenAIError as exc:
            raise self._explain(exc, call.exchange) from None
        raise AssertionError("unreachable")

    async def _attempt(self, call: _Call) -> str:
        if self.limiter is not None:
            await self.limiter.acquire()
        call.exchange.attempts += 1
        self.requests += 1
        return await self._once(call)

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        hinted = _retry_after(exc)
        cap = self.settings.max_retry_seconds
        if hinted is not None:
            return min(hinted, cap)
        base = min(0.5 * 2 ** (state.attempt_number - 1), 20.0)
        return float(min(base + random.uniform(0, base / 2), cap))

    async def _once(self, call: _Call) -> str:
        schema, mode, exchange = call.schema, call.mode, call.exchange
        settings = self.settings
        request: dict[str, Any] = {
            "model": settings.model,
            "messages": _with_schema_hint(call.messages, schema)
            if mode != "json_schema"
            else call.messages,
            "temperature": settings.temperature,
            "max_tokens": settings.max_tokens,
        }
        if settings.seed is not None:
            request["seed"] = settings.seed
        json_schema = _schema_of(schema)
        if mode == "json_schema":
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": json_schema, "strict": False},
            }
        elif mode == "json_object":
            # llama.cpp's server takes the schema beside json_object and constrains its grammar to it.
            request["response_format"] = {"type": "json_object", "schema": json_schema}
        if call.stream is not None:
            return await self._streamed(call, request, call.stream)
        # client.post sends the body as it is: chat.completions.create would first run its typed
        # transform over every message and the schema, about 3 ms a request for nothing. The
        # answer is validated straight from its bytes into the few fields used here, instead of
        # the client building its whole ChatCompletion model field by field in Python.
        body = await call.client.post(call.url, cast_to=bytes, body=request)
        try:
            response = _Completion.model_validate_json(body)
        except ValidationError:
            raise _Reask("the server's answer was not a chat completion", "") from None
        exchange.add(response.usage, self.limiter)
        if not response.choices:
            raise _Reask("the answer had no choices", "")
        choice = response.choices[0]
        return _content_of(choice.message, choice.finish_reason, settings)

    async def _streamed(self, call: _Call, request: dict[str, Any], sink: StreamSink) -> str:
        exchange = call.exchange
        parts: list[str] = []
        extractor = FieldStream(call.stream_field, sink)
        finish: str | None = None
        refusal: list[str] = []
        stream = await call.client.post(
            call.url,
            cast_to=ChatCompletion,
            body={**request, "stream": True, "stream_options": {"include_usage": True}},
            stream=True,
            stream_cls=openai.AsyncStream[ChatCompletionChunk],
        )
        async for chunk in stream:
            if getattr(chunk, "usage", None):
                exchange.add(chunk.usage, self.limiter)
            for choice in chunk.choices or []:
                delta = choice.delta
                if delta is not None and delta.content:
                    parts.append(delta.content)
                    extractor.feed(delta.content)
                if delta is not None and getattr(delta, "refusal", None):
                    refusal.append(delta.refusal or "")
                if choice.finish_reason:
                    finish = choice.finish_reason
        if refusal:
            raise BackendError(f"The model refused to answer: {''.join(refusal)[:200]}")
        if finish == "length":
            raise _Reask(_cut_off(self.settings), "".join(parts))
        content = "".join(parts)
        if not content.strip():
            raise _Reask("the answer was empty", content)
        return content

    def _explain(self, exc: BaseException, exchange: Exchange) -> BackendError:
        where = endpoint_name(self.settings)
        model = self.settings.model
        tries = f"{exchange.attempts} attempt{'s' if exchange.attempts != 1 else ''}"
        if isinstance(exc, BackendError):
            return exc
        if isinstance(exc, openai.AuthenticationError):
            return BackendError(f"{where} refused the API key (401): check OPENAI_API_KEY.")
        if isinstance(exc, openai.PermissionDeniedError):
            return BackendError(
                f"{where} denied access to model {model} (403): check the key's permissions."
            )
        if isinstance(exc, openai.NotFoundError):
            return BackendError(f"{where} has no model named {model} (404): check ASSISTANT_MODEL.")
        if isinstance(exc, openai.RateLimitError):
            return BackendError(
                f"{where} kept rate-limiting the request (429) after {tries}; try again later."
            )
        if isinstance(exc, openai.APITimeoutError):
            return BackendError(
                f"{where} did not answer within {self.settings.timeout:g} s ({tries}); it may be overloaded."
            )
        if isinstance(exc, openai.APIConnectionError):
            return BackendError(
                f"Cannot reach the LLM endpoint at {where} ({tries}): is the server running?"
            )
        if isinstance(exc, openai.APIStatusError):
            return BackendError(
                f"{where} failed with HTTP {exc.status_code} after {tries}: {_short(exc)}."
            )
        return BackendError(f"The LLM call to {where} failed: {_short(exc)}.")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _cut_off(settings: LLMSettings) -> str:
    return f"the answer was cut off at {settings.max_tokens} tokens; answer more briefly (or raise llm.max_tokens)"


def _content_of(message: Any, finish_reason: str | None, settings: LLMSettings) -> str:
    refusal = getattr(message, "refusal", None)
    if refusal:
        raise BackendError(f"The model refused to answer: {refusal[:200]}")
    if finish_reason == "length":
        raise _Reask(_cut_off(settings), message.content or "")
    content = message.content or ""
    if not content.strip():
        raise _Reask("the answer was empty", content)
    return str(content)


@functools.cache
def _schema_of(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()


def _with_schema_hint(messages: list[Message], schema: type[BaseModel]) -> list[Message]:
    """For servers without json_schema: say the schema in words as well."""
    hint = (
        "Answer with only a JSON object matching this JSON schema, no prose around it:\n"
        + json.dumps(_schema_of(schema), separators=(",", ":"))
    )
    return [*messages[:-1], {**messages[-1], "content": messages[-1]["content"] + "\n\n" + hint}]


_JSON_OBJECT = re.compile(r"\{.*\}", re.S)


def _parse(content: str, schema: type[M]) -> M:
    text = content.strip()
    if text.startswith("```"):
        text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text)
    try:
        return schema.model_validate_json(text)
    except ValidationError as exc:
        found = _JSON_OBJECT.search(text)
        if found and found.group(0) != text:
            try:
                return schema.model_validate_json(found.group(0))
            except ValidationError:
                pass
        errors = exc.errors()
        reason = (
            "it was not JSON"
            if errors and errors[0]["type"] == "json_invalid"
            else "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in errors[:3]
            )
        )
        raise _Reask(reason, content) from None


class FieldStream:
    """Pulls one string field out of a JSON object as it streams in, and passes its text on."""

    def __init__(self, name: str, sink: StreamSink) -> None:
        self._opening = re.compile(r'"' + re.escape(name) + r'"\s*:\s*"')
        self._sink = sink
        self._buffer = ""
        self._inside = False
        self._done = False
        self._escape = ""

    def feed(self, chunk: str) -> None:
        if self._done:
            return
        if not self._inside:
            self._buffer += chunk
            m = self._opening.search(self._buffer)
            if not m:
                return
            self._inside = True
            chunk, self._buffer = self._buffer[m.end() :], ""
        out: list[str] = []
        for ch in chunk:
            if self._escape:
                self._escape += ch
                if self._escape[1] == "u" and len(self._escape) < 6:
                    continue
                out.append(_unescape(self._escape))
                self._escape = ""
            elif ch == "\\":
                self._escape = ch
            elif ch == '"':
                self._done = True
                break
            else:
                out.append(ch)
        if out:
            self._sink("".join(out))


def _unescape(seq: str) -> str:
    try:
        return str(json.loads(f'"{seq}"'))
    except json.JSONDecodeError:
        return seq[1:]


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class _BackgroundLoop:
    """One event loop on a daemon thread, for sync calls made from inside a running loop (a
    notebook cell, an async web handler), where this thread's own loop cannot run."""

    _loop: asyncio.AbstractEventLoop | None = None
    _lock = threading.Lock()

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="assistant-llm", daemon=True).start()
                cls._loop = loop
            return cls._loop


_thread = threading.local()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code (also when the caller already runs an event loop).

    Each thread keeps one event loop of its own from call to call, so the client and its
    kept-alive connections outlive a call and no call waits for another thread to wake up (two
    such hand-offs cost a quarter of a millisecond on a CPU that idled while the model thought).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass  # the usual case: plain sync code
    else:
        return asyncio.run_coroutine_threadsafe(coro, _BackgroundLoop.get()).result()
    loop: asyncio.AbstractEventLoop | None = getattr(_thread, "loop", None)
    if loop is None or loop.is_closed():
        loop = _thread.loop = asyncio.new_event_loop()
    task = loop.create_task(coro)
    try:
        return loop.run_until_complete(task)
    except BaseException:
        # Interrupted (Ctrl-C) while the call was still under way: cancel it now, or it would
        # carry on inside the next call on this loop.
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        raise
