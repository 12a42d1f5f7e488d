"""Backends: what classifies a complaint and drafts its reply. One protocol, registered in one
place; the settings' `backend` choices and the CLI's `--backend` come from this registry.

A backend is handed the email as it may see it (redacted when it leaves this machine) and the
offline classifier's reading of it as a hint; the pipeline does the rest (intake, redaction,
the final lint, the result).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol

from ..errors import ConfigError
from ..models import Classification, Drafted, Email, LintReport

if TYPE_CHECKING:
    from ..config import Settings
    from ..knowledge import Retrieved
    from ..lint.judge import Judgement
    from ..llm import Limiter, StreamSink
    from ..prompts import Prompts

Lint = Callable[[str], LintReport]
"""Lints a reply in the backend's own words (placeholders kept), for lint-guided revision."""


class Backend(Protocol):
    name: str
    parallel: Literal["processes", "tasks"]
    """How a batch runs many drafts: CPU-bound on this machine (a process per core, each making
    its backend from the settings), or waiting on a server (concurrent tasks)."""

    @property
    def model(self) -> str | None: ...

    @property
    def endpoint(self) -> str | None:
        """Where the email is sent (redaction applies off this machine); None: it never leaves."""

    async def classify(self, email: Email, hint: Classification) -> Classification: ...

    async def draft(
        self,
        email: Email,
        hint: Classification,
        lint: Lint,
        stream: StreamSink | None = None,
        *,
        knowledge: Retrieved | None = None,
    ) -> Drafted:
        """`knowledge`: what the company's own articles and saved replies say about this
        complaint; the Drafted's `sources` name what the reply used."""

    async def judge(self, email: Email, reply: str) -> Judgement | None:
        """The LLM judge's reading of a reply (`[lint] judge`); None from a backend without one."""

    def limit(self, limiter: Limiter | None) -> None:
        """Hold every request to a rate (batch runs); a backend with no server ignores it."""


Factory = Callable[["Settings", "Prompts"], Backend]
# The built-in backends by where they live: imported when chosen, so the offline default never
# loads the openai package.
_REGISTRY: dict[str, Factory | str] = {
    "offline": "assistant.backends.offline:OfflineBackend",
    "openai": "assistant.backends.openai:OpenAIBackend",
}


def register(name: str, factory: Factory) -> None:
    """Add a backend under `name`: `backend = "name"` in the settings then makes it."""
    _REGISTRY[name] = factory


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def make(settings: Settings, prompts: Prompts) -> Backend:
    entry = _REGISTRY.get(settings.backend)
    if entry is None:
        raise ConfigError(
            f"backend {settings.backend!r} is not one of the registered backends "
            f"({', '.join(names())})."
        )
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        entry = getattr(importlib.import_module(module), attr)
    return entry(settings, prompts)


__all__ = ["Backend", "Drafted", "Lint", "make", "names", "register"]
