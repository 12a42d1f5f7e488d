"""The pipeline in one object: intake -> classify -> prompts -> draft -> lint.

`Assistant` is what the CLI, the web app and other tools call; the module-level functions in
`assistant/__init__.py` use a default one.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from . import intake
from .classify import classify_offline
from .classify.llm import aclassify_llm
from .config import Settings, data_dir, load_settings
from .draft import draft_offline, offline_notes
from .draft.llm import adraft_llm
from .lint import Linter, amounts_in
from .llm import Exchange, LLMClient, StreamSink, run_sync
from .models import Classification, DraftResult, Email, Finding, LintReport
from .prompts import Prompts, default_prompts
from .review import AuditLog, Record, Review, default_agent

Text = str | bytes | Email


class Assistant:
    def __init__(self, settings: Settings | None = None, *, prompts: Prompts | None = None) -> None:
        self.settings = settings or Settings()
        self.prompts = prompts or default_prompts()
        self.linter = Linter(self.settings)
        self._llm: LLMClient | None = None
        self._audit: AuditLog | None = None

    @property
    def llm(self) -> LLMClient:
        """The LLM client, made on first use so the offline backend never needs one."""
        if self._llm is None:
            self._llm = LLMClient(self.settings.llm)
        return self._llm

    @classmethod
    def from_config(
        cls, path: str | Path | None = None, overrides: dict[tuple[str, ...], str] | None = None
    ) -> Assistant:
        """Settings from the TOML file (or $ASSISTANT_CONFIG), the environment, then overrides."""
        return cls(load_settings(path, overrides=overrides))

    # intake
    def read(self, source: Text) -> Email:
        if isinstance(source, Email):
            return source
        return intake.parse(source, max_bytes=self.settings.max_input_bytes)

    def read_file(self, path: str | Path) -> Email:
        return intake.read_file(path, max_bytes=self.settings.max_input_bytes)

    # classify
    def classify(self, source: Text) -> Classification:
        email = self.read(source)
        if self.settings.backend == "offline":
            return classify_offline(email)
        return run_sync(self.aclassify(email))

    async def aclassify(self, source: Text) -> Classification:
        email = self.read(source)
        if self.settings.backend == "offline":
            return classify_offline(email)
        return await aclassify_llm(email, self.settings, self.prompts, self.llm, Exchange())

    # lint
    def lint(self, text: str, *, email: Email | None = None) -> LintReport:
        allowed = amounts_in(email.body) if email else frozenset()
        return self.linter.lint(text, allowed_amounts=allowed)

    async def alint(self, text: str) -> LintReport:
        return await asyncio.to_thread(self.lint, text)

    # draft
    def draft(self, source: Text, *, stream: StreamSink | None = None) -> DraftResult:
        """Classify, draft and lint. `stream` receives the reply text as an LLM writes it."""
        email = self.read(source)
        if self.settings.backend == "offline":
            return self._draft_offline(email)
        return run_sync(self._adraft_llm(email, stream))

    async def adraft(self, source: Text, *, stream: StreamSink | None = None) -> DraftResult:
        email = self.read(source)
        if self.settings.backend == "offline":
            # CPU-bound and fast; a thread keeps the caller's event loop responsive anyway.
            return await asyncio.to_thread(self._draft_offline, email)
        return await self._adraft_llm(email, stream)

    def _draft_offline(self, email: Email) -> DraftResult:
        classification = classify_offline(email)
        goal, reply = draft_offline(email, classification, self.settings, self.prompts)
        return DraftResult(
            email=email,
            classification=classification,
            meta_goal=goal,
            reply=reply,
            lint=self.lint(reply, email=email),
            backend="offline",
            model=None,
            revisions=0,
            usage=None,
            prompt_version=self.prompts.version,
            notes=offline_notes(classification),
        )

    async def _adraft_llm(self, email: Email, stream: StreamSink | None) -> DraftResult:
        exchange = Exchange()
        classification = await aclassify_llm(email, self.settings, self.prompts, self.llm, exchange)
        drafted = await adraft_llm(
            email,
            classification,
            self.settings,
            self.prompts,
            self.llm,
            lambda reply: self.lint(reply, email=email),
            exchange,
            stream,
        )
        return DraftResult(
            email=email,
            classification=classification,
            meta_goal=drafted.meta_goal,
            reply=drafted.reply,
            lint=drafted.lint,
            backend="openai",
            model=self.settings.llm.model,
            revisions=drafted.revisions,
            usage=exchange.usage if exchange.usage_reported else None,
            prompt_version=self.prompts.version,
            notes=[],
        )

    # review and the audit log
    @property
    def audit(self) -> AuditLog:
        """The audit log, opened (and migrated) on first use."""
        if self._audit is None:
            self._audit = AuditLog(self.settings.audit_db or data_dir() / "audit.sqlite3")
        return self._audit

    def review(self, result: DraftResult, *, agent: str | None = None) -> Review:
        """Start reviewing a draft: it is saved as pending at once."""
        return Review(self, result, agent or self.settings.agent or default_agent(), self.audit)

    def approve(
        self,
        result: DraftResult,
        *,
        reply: str | None = None,
        agent: str | None = None,
        override_reason: str | None = None,
        dismissed: list[tuple[Finding, str]] | None = None,
    ) -> Record:
        """Approve a draft (or an edited `reply`, linted again first) and return the stored record.
        Raises ApprovalError while error findings remain without an override reason."""
        review = self.review(result, agent=agent)
        if reply is not None and reply != result.reply:
            review.edit(reply)
        for finding, reason in dismissed or []:
            current = next(
                (
                    f
                    for f in review.report.findings
                    if f.rule == finding.rule and f.text == finding.text
                ),
                None,
            )
            if current is not None:
                review.dismiss(current, reason)
        return review.approve(override_reason)

    def reject(self, result: DraftResult, reason: str, *, agent: str | None = None) -> Record:
        return self.review(result, agent=agent).reject(reason)

    def history(
        self,
        *,
        agent: str | None = None,
        category: str | None = None,
        decision: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 50,
    ) -> list[Record]:
        return self.audit.query(
            agent=agent, category=category, decision=decision, since=since, until=until, limit=limit
        )
