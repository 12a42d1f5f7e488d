"""Structured answers from an OpenAI-compatible endpoint, through `openai.AsyncOpenAI` and its
own HTTP client (proxies, TLS and connection pooling as the openai package provides them).

The openai client's own retries are off; `retry.policy` owns them, so every attempt is counted,
usage is summed across attempts, and Retry-After is honoured.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

import openai
from pydantic import BaseModel, ValidationError

from ..config import LLMSettings
from ..errors import (
    AuthenticationError,
    BackendError,
    BadAnswerError,
    ConfigError,
    ModelNotFoundError,
    RateLimitedError,
    TimedOutError,
    UnreachableError,
)
from ..models import Usage
from .retry import format_rejected, policy
from .stream import FieldStream, StreamSink

M = TypeVar("M", bound=BaseModel)
Mode = Literal["json_schema", "json_object", "prompt"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "prompt")
Message = dict[str, str]


class Limiter(Protocol):
    """Holds requests back to a rate (batch.RateLimiter), and hears the tokens each one used."""

    async def acquire(self) -> None: ...

    def record(self, tokens: int) -> None: ...


def endpoint_name(settings: LLMSettings) -> str:
    return settings.base_url or "https://api.openai.com/v1"


@dataclass
class Exchange:
    """What one draft's calls cost: HTTP requests and tokens, summed over every attempt."""

    attempts: int = 0
    usage: Usage | None = None

    def add(self, usage: Any) -> int:
        if usage is None:
            return 0
        counted = Usage(
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            total_tokens=getattr(usage, "total_tokens", 0) or 0,
        )
        self.usage = counted if self.usage is None else self.usage + counted
        return counted.total_tokens


class _Reask(Exception):
    """The model answered, but not with what we asked for: ask again (bounded)."""

    def __init__(self, reason: str, content: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.content = content


@dataclass
class _Call:
    messages: list[Message]
    schema: type[BaseModel]
    mode: Mode
    exchange: Exchange
    stream: StreamSink | None
    stream_field: str


class LLMClient:
    def __init__(
        self,
        settings: LLMSettings,
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        if not settings.api_key and not settings.base_url:
            raise ConfigError(
                "The openai backend needs an API key: set OPENAI_API_KEY (or llm.api_key)."
            )
        self.settings = settings
        self.limiter = limiter
        self.mode: Mode | None = None if settings.structured == "auto" else settings.structured
        """The structured-output mode this endpoint took; None until one has worked."""
        self._sleep = sleep
        # A connection pool belongs to the event loop it was made on: one client per loop.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, openai.AsyncOpenAI] = (
            weakref.WeakKeyDictionary()
        )

    def _client(self) -> openai.AsyncOpenAI:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = openai.AsyncOpenAI(
                # Local servers (llama.cpp, Ollama) ignore the key but the client insists on one.
                api_key=self.settings.api_key or "sk-no-key-needed",
                base_url=self.settings.base_url,
                timeout=self.settings.timeout,
                max_retries=0,
            )
            self._clients[loop] = client
        return client

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
        modes = [self.mode] if self.mode else list(MODES)
        refused: Exception | None = None
        for mode in modes:
            try:
                result = await self._with_reasks(
                    _Call(messages, schema, mode, exchange, stream, stream_field), schema
                )
            except openai.APIStatusError as exc:
                if self.mode is None and format_rejected(exc):
                    refused = exc
                    continue  # this server does not take that response_format; try the next
                raise self._explain(exc, exchange) from None
            self.mode = mode
            return result
        raise self._explain(refused or BadAnswerError("no structured output mode worked"), exchange)

    async def _with_reasks(self, call: _Call, schema: type[M]) -> M:
        first = call.messages
        for reask in range(self.settings.max_reasks + 1):
            try:
                return _parse(await self._attempts(call), schema)
            except _Reask as problem:
                if reask == self.settings.max_reasks:
                    raise BadAnswerError(
                        f"The model at {endpoint_name(self.settings)} did not return a valid "
                        f"answer after {reask + 1} tries ({problem.reason})."
                    ) from None
                call.messages = [
                    *first,
                    {"role": "assistant", "content": problem.content[:4000]},
                    {
                        "role": "user",
                        "content": f"That was not valid: {problem.reason}. Answer again with only "
                        f"the JSON object with these fields: {', '.join(call.schema.model_fields)}.",
                    },
                ]
        raise AssertionError("unreachable")

    async def _attempts(self, call: _Call) -> str:
        try:
            async for attempt in policy(self.settings, self._sleep):
                with attempt:
                    return await self._once(call)
        except openai.APIStatusError as exc:
            if format_rejected(exc):
                raise
            raise self._explain(exc, call.exchange) from None
        except openai.OpenAIError as exc:
            raise self._explain(exc, call.exchange) from None
        raise AssertionError("unreachable")

    def _request(self, call: _Call) -> dict[str, Any]:
        settings = self.settings
        json_schema = _schema(call.schema)
        request: dict[str, Any] = {
            "model": settings.model,
            "messages": call.messages
            if call.mode == "json_schema"
            else _with_schema_hint(call.messages, json_schema),
            "temperature": settings.temperature,
            "max_tokens": settings.max_tokens,
        }
        if settings.seed is not None:
            request["seed"] = settings.seed
        if call.mode == "json_schema":
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": call.schema.__name__,
                    "schema": json_schema,
                    "strict": False,
                },
            }
        elif call.mode == "json_object":
            # llama.cpp's server takes the schema beside json_object and constrains its grammar to it.
            request["response_format"] = {"type": "json_object", "schema": json_schema}
        return request

    async def _once(self, call: _Call) -> str:
        if self.limiter is not None:
            await self.limiter.acquire()
        call.exchange.attempts += 1
        client = self._client()
        request = self._request(call)
        if call.stream is not None:
            return await self._streamed(client, call, request, call.stream)
        response = _completion(await self._read_capped(client, request))
        if response is None:  # an HTML page, as proxies answer
            raise _Reask("the server's answer was not a chat completion", "")
        self._used(call, response.usage)
        if not response.choices:
            raise _Reask("the answer had no choices", "")
        choice = response.choices[0]
        message = choice.message
        if message.refusal:
            raise BadAnswerError(f"The model refused to answer: {message.refusal[:200]}")
        return self._content(message.content, choice.finish_reason)

    async def _read_capped(self, client: openai.AsyncOpenAI, request: dict[str, Any]) -> bytes:
        """The answer's body, read no further than llm.max_answer_bytes."""
        cap = self.settings.max_answer_bytes
        body = bytearray()
        async with client.chat.completions.with_streaming_response.create(**request) as response:
            async for chunk in response.iter_bytes():
                body += chunk
                if len(body) > cap:
                    raise self._too_long()
        return bytes(body)

    def _too_long(self) -> BadAnswerError:
        return BadAnswerError(
            f"The model's answer ran past {self.settings.max_answer_bytes:,} bytes "
            "(llm.max_answer_bytes), so it was cut off unread: check the server and the model."
        )

    async def _streamed(
        self, client: openai.AsyncOpenAI, call: _Call, request: dict[str, Any], sink: StreamSink
    ) -> str:
        parts: list[str] = []
        refusal: list[str] = []
        extractor = FieldStream(call.stream_field, sink)
        finish: str | None = None
        size = 0
        stream = await client.chat.completions.create(
            **request, stream=True, stream_options={"include_usage": True}
        )
        async for chunk in stream:
            self._used(call, chunk.usage)
            for choice in chunk.choices or []:
                delta = choice.delta
                if delta is not None and delta.content:
                    parts.append(delta.content)
                    size += len(delta.content.encode("utf-8"))
                    if size > self.settings.max_answer_bytes:
                        raise self._too_long()
                    extractor.feed(delta.content)
                if delta is not None and getattr(delta, "refusal", None):
                    refusal.append(delta.refusal or "")
                finish = choice.finish_reason or finish
        if refusal:
            raise BadAnswerError(f"The model refused to answer: {''.join(refusal)[:200]}")
        return self._content("".join(parts), finish)

    def _used(self, call: _Call, usage: Any) -> None:
        tokens = call.exchange.add(usage)
        if tokens and self.limiter is not None:
            self.limiter.record(tokens)

    def _content(self, content: str | None, finish_reason: str | None) -> str:
        if finish_reason == "length":
            raise _Reask(
                f"the answer was cut off at {self.settings.max_tokens} tokens; answer more "
                "briefly (or raise llm.max_tokens)",
                content or "",
            )
        if not (content or "").strip():
            raise _Reask("the answer was empty", content or "")
        return str(content)

    def _explain(self, exc: BaseException, exchange: Exchange) -> BackendError:
        """One sentence per failure, as the subclass that names it."""
        if isinstance(exc, BackendError):
            return exc
        where, model = endpoint_name(self.settings), self.settings.model
        tries = f"{exchange.attempts} attempt{'s' if exchange.attempts != 1 else ''}"
        status = getattr(exc, "status_code", None)
        for theirs, ours, message in _STATUS_ERRORS:
            if isinstance(exc, theirs):
                return ours(
                    message.format(where=where, model=model, tries=tries), status_code=status
                )
        if isinstance(exc, openai.APITimeoutError):
            return TimedOutError(
                f"{where} did not answer within {self.settings.timeout:g} s ({tries}); it may "
                "be overloaded."
            )
        if isinstance(exc, openai.APIConnectionError):
            return UnreachableError(
                f"Cannot reach the LLM endpoint at {where} ({tries}): is the server running?"
            )
        if isinstance(exc, openai.APIStatusError):
            return BackendError(
                f"{where} failed with HTTP {exc.status_code} after {tries}: {_short(exc)}.",
                status_code=status,
            )
        return BackendError(f"The LLM call to {where} failed: {_short(exc)}.")


@functools.cache
def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


# The endpoint's answers that each mean one thing to an agent, and the sentence for it.
_STATUS_ERRORS: list[tuple[type[openai.APIStatusError], type[BackendError], str]] = [
    (
        openai.AuthenticationError,
        AuthenticationError,
        "{where} refused the API key (401): check OPENAI_API_KEY.",
    ),
    (
        openai.PermissionDeniedError,
        AuthenticationError,
        "{where} denied access to model {model} (403): check the key's permissions.",
    ),
    (
        openai.NotFoundError,
        ModelNotFoundError,
        "{where} has no model named {model} (404): check ASSISTANT_MODEL.",
    ),
    (
        openai.RateLimitError,
        RateLimitedError,
        "{where} kept rate-limiting the request (429) after {tries}; try again later.",
    ),
]


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def _with_schema_hint(messages: list[Message], schema: dict[str, Any]) -> list[Message]:
    """For servers without json_schema: say the schema in words as well."""
    hint = (
        "Answer with only a JSON object matching this JSON schema, no prose around it:\n"
        + json.dumps(schema, separators=(",", ":"))
    )
    return [*messages[:-1], {**messages[-1], "content": messages[-1]["content"] + "\n\n" + hint}]


_JSON_OBJECT = re.compile(r"\{.*\}", re.S)


class _Message(BaseModel):
    content: str | None = None
    refusal: str | None = None


class _Choice(BaseModel):
    message: _Message = _Message()
    finish_reason: str | None = None  # servers use more values than OpenAI's ("eos", ...)


class _Usage(BaseModel):
    prompt_tokens: int | None = 0
    completion_tokens: int | None = 0
    total_tokens: int | None = 0


class _Completion(BaseModel):
    """The parts of a chat completion read here, leniently, as the openai client itself reads
    a response (it does not validate either)."""

    choices: list[_Choice]
    usage: _Usage | None = None


def _completion(body: bytes) -> _Completion | None:
    try:
        return _Completion.model_validate_json(body)
    except ValueError:
        return None


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
