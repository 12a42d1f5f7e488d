"""When to try an LLM request again, and how long to wait: tenacity, with exponential backoff and
jitter, the server's own Retry-After (seconds or an HTTP date) or retry-after-ms, and bounds on
both the attempts and the total time."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from ..config import LLMSettings

_BACKOFF = wait_exponential_jitter(multiplier=0.5, max=20.0, jitter=0.5)


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.RateLimitError | openai.APITimeoutError | openai.APIConnectionError):
        return True
    return (
        isinstance(exc, openai.APIStatusError)
        and exc.status_code >= 500
        and not format_rejected(exc)
    )


def format_rejected(exc: BaseException) -> bool:
    """The server refused the response_format itself (llama.cpp answers 500 to json_schema)."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422, 500):
        return False
    text = f"{exc} {exc.body}".lower()
    return "response_format" in text or "json_schema" in text


def retry_after(exc: BaseException | None, now: float | None = None) -> float | None:
    """The wait the server asked for, in seconds: retry-after-ms, or Retry-After as seconds or as
    an HTTP date."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(float(value) * scale, 0.0)
            except ValueError:
                pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return max((when - current).total_seconds(), 0.0)


def policy(
    settings: LLMSettings, sleep: Callable[[float], Awaitable[None]] | None = None
) -> AsyncRetrying:
    """Transient failures (429, timeouts, lost connections, 5xx) are tried again, at most
    `max_attempts` times in all and never past `max_retry_seconds` from the first try."""
    cap = settings.max_retry_seconds

    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        hinted = retry_after(outcome.exception() if outcome is not None else None)
        return float(min(hinted if hinted is not None else _BACKOFF(state), cap))

    extra = {"sleep": sleep} if sleep is not None else {}
    return AsyncRetrying(
        retry=retry_if_exception(retryable),
        stop=stop_after_attempt(settings.max_attempts) | stop_after_delay(cap),
        wait=wait,
        reraise=True,
        **extra,  # type: ignore[arg-type]
    )
