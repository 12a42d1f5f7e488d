"""Settings: one TOML file plus environment variables, which win. Every setting has a working default."""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import platformdirs
import re2
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import backends
from .business import Business, BusinessName, business
from .errors import ConfigError
from .models import Action, Severity


class _Strict(BaseModel):
    # A typo in the config file must be an error, not a silently ignored key.
    model_config = ConfigDict(extra="forbid")


class CompanyProfile(_Strict):
    business: BusinessName = "retail"
    """The kind of company: its vocabulary and default remedies (assistant/business)."""
    name: str = "Northwind Goods"
    agent_name: str = "Sam"
    sign_off: str = "Warm regards"
    tone: str = "warm, plain and direct; short sentences; no corporate filler"
    website: str | None = None
    support_email: str | None = None
    phone: str | None = None
    messaging: list[str] = []
    """Chat apps and handles the company answers customers on ("WhatsApp", "@NorthwindHelp"); a
    reply may name only these."""


class Policy(_Strict):
    """What a reply may promise. Replies never promise more than this."""

    refund_requires_return: bool = False
    reship_lost_parcels: bool = True
    max_goodwill_credit: float = Field(default=50.0, ge=0)
    max_discount_percent: float = Field(default=25.0, ge=0, le=100)
    """The largest percentage off a reply may offer ("10% off your next order")."""
    currency: str = "$"
    return_window_days: int = Field(default=30, ge=0)
    replacement_dispatch: str = "today"
    refund_days: str = "3 to 5 business days"
    actions: list[Action] | None = None
    """The remedies a reply may offer (refund, replace, reship, rebook, credit, callback,
    escalate, compensate, investigate, ...); default: the business's own."""


class KnowledgeSettings(_Strict):
    paths: list[Path] = Field(default_factory=list)
    """Folders of the company's Markdown help articles, saved replies and policies."""


class LLMSettings(_Strict):
    base_url: str | None = None
    api_key: str | None = None
    model: str = "gpt-4o-mini"
    timeout: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    max_retry_seconds: float = Field(default=120.0, gt=0)
    max_revisions: int = Field(default=2, ge=0)
    """Lint-guided rewrites when a draft has error findings."""
    max_reasks: int = Field(default=2, ge=0)
    """Times to ask again when the model's answer is not valid JSON of the right shape."""
    max_tokens: int = Field(default=1200, ge=16)
    max_answer_bytes: int = Field(default=1_000_000, ge=4096)
    """The most of a model's answer that is read: a server sending more (a broken or hostile
    one) is cut off there, whatever max_tokens asked for."""
    temperature: float = Field(default=0.3, ge=0, le=2)
    seed: int | None = None
    """Sampling seed, for servers that honour it (reproducible test runs)."""
    structured: Literal["auto", "json_schema", "json_object", "prompt"] = "auto"
    """How to ask for JSON: auto tries json_schema, then json_object with the schema (llama.cpp),
    then instructions and parsing."""
    classify: Literal["together", "separate"] = "together"
    """together: one call per draft returns the classification, the meta-goal and the reply (the
    offline classifier's reading goes in as a hint); separate: a classification call first."""


class LintSettings(_Strict):
    ignore: list[str] = Field(default_factory=list)
    """Rule ids that never report."""
    severity: dict[str, Severity] = Field(default_factory=dict)
    """Per-rule severity overrides, e.g. {"vague-commitment" = "error"}."""
    model: bool = True
    """The learned tone model (blaming, defensive, non-apology sentences) beside the rules."""
    judge: bool = False
    """Ask the configured LLM to judge each draft too (openai backend; its findings are warnings
    with layer "llm"). The offline backend has no judge."""
    semantic: bool = False
    """The semantic layer (sentence embeddings) beside the patterns; needs the [semantic] extra."""
    semantic_threshold: float = Field(default=0.8, gt=0, lt=1)
    """Chosen on the project's own examples: the lowest at which no neutral sentence is flagged
    in leave-one-out (see assistant/lint/semantic.py)."""


def data_dir() -> Path:
    """Where the tool keeps its audit log and anything it must not lose."""
    return Path(
        os.environ.get("ASSISTANT_DATA_DIR") or platformdirs.user_data_dir("complaint-assistant")
    )


def linear_pattern(pattern: str) -> Any:
    """A configured regular expression, compiled with RE2: its matching time grows with the text
    alone, so a pattern that would backtrack without end in Python's engine cannot hang a draft.
    RE2 has no lookaround or backreferences; such a pattern is refused."""
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(f"is not a pattern that runs in linear time ({reason})") from None


class Settings(_Strict):
    @field_validator("sensitive_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                linear_pattern(pattern)
            except ValueError as exc:
                raise ValueError(f"{pattern!r} {exc}") from None
        return patterns

    @field_validator("backend")
    @classmethod
    def _registered(cls, name: str) -> str:
        if name not in backends.names():
            raise ValueError(f"{name!r} is not a backend (known: {', '.join(backends.names())})")
        return name

    backend: str = "offline"
    """A backend in the registry (assistant/backends): offline or openai."""
    redact: Literal["always", "remote", "never"] = "remote"
    """Replace customer data with placeholders before any LLM call: always, only for endpoints off
    this machine (remote), or never."""
    sensitive_patterns: list[str] = Field(default_factory=list)
    """Regular expressions for more data to redact, e.g. order or account numbers: ['\\bAC-\\d{6}\\b']."""
    max_input_bytes: int = Field(default=2_000_000, gt=0)
    audit_db: Path | None = None
    """The audit log (SQLite); default: audit.sqlite3 in the data directory."""
    agent: str | None = None
    """Who approves, for the audit log; default: the operating-system user."""
    web_hosts: list[str] = Field(default_factory=list)
    """Host names, besides 127.0.0.1, localhost and ::1, that `assistant serve` answers to on
    loopback (a name in /etc/hosts); bound beyond loopback, the token guards every request."""
    web_token: str | None = None
    """The token `assistant serve` requires when bound beyond loopback; default: a fresh one."""
    company: CompanyProfile = Field(default_factory=CompanyProfile)
    policy: Policy = Field(default_factory=Policy)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    lint: LintSettings = Field(default_factory=LintSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)

    @property
    def business(self) -> Business:
        """The company's kind, with the configured remedies."""
        return business(self.company.business, self.policy.actions)


# Environment variable -> dotted setting path.
ENV_VARS: dict[str, tuple[str, ...]] = {
    "ASSISTANT_BACKEND": ("backend",),
    "ASSISTANT_REDACT": ("redact",),
    "ASSISTANT_MODEL": ("llm", "model"),
    "OPENAI_BASE_URL": ("llm", "base_url"),
    "OPENAI_API_KEY": ("llm", "api_key"),
    "ASSISTANT_AUDIT_DB": ("audit_db",),
    "ASSISTANT_AGENT": ("agent",),
    "ASSISTANT_BUSINESS": ("company", "business"),
}


def _describe(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    if first["type"] == "extra_forbidden":
        parent: type[BaseModel] = Settings
        for part in first["loc"][:-1]:
            annotation = parent.model_fields[str(part)].annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                parent = annotation
        known = list(parent.model_fields)
        close = difflib.get_close_matches(str(first["loc"][-1]), known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(known)})"
        return f"{source}: {where} is not a setting{hint}."
    return f"{source}: {where}: {first['msg']} (got {first.get('input')!r})."


def _set(data: dict[str, Any], path: tuple[str, ...], value: str) -> None:
    for part in path[:-1]:
        data = data.setdefault(part, {})
    data[path[-1]] = value


def load_settings(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[tuple[str, ...], str] | None = None,
) -> Settings:
    """Read the TOML file (if any), then environment variables, then `overrides` (command-line
    flags, by dotted path); raise ConfigError on any mistake."""
    env = os.environ if env is None else env
    path = path or env.get("ASSISTANT_CONFIG") or None
    data: dict[str, Any] = {}
    source = "configuration"
    if path:
        source = str(path)
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"The config file {path} does not exist.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"The config file {path} cannot be read: {exc}.") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"The config file {path} is not valid TOML: {exc}.") from None
    for var, setting in ENV_VARS.items():
        if env.get(var):
            _set(data, setting, env[var])
    for setting, value in (overrides or {}).items():
        _set(data, setting, value)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
    if path:
        # Knowledge folders are named from where the config file sits, as people write them.
        base = Path(path).parent
        folders = [p if p.is_absolute() else base / p for p in settings.knowledge.paths]
        settings.knowledge.paths = folders
    return settings
