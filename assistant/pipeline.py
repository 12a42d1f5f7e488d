"""The pipeline in one object: intake -> classify -> prompts -> draft -> lint.

`Assistant` is what the CLI, the web app and other tools call; the module-level functions in
`assistant/__init__.py` use a default one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime
from pathlib import Path

from . import intake
from .batch import BatchResult, Item, adraft_items
from .classify import classify_offline
from .classify.llm import aclassify_llm
from .config import Settings, data_dir, load_settings
from .draft import draft_offline, offline_notes, read_body
from .draft.llm import adraft_llm
from .intake import Received
from .intake.facts import extract_facts
from .lint import Linter, amounts_in
from .llm import Exchange, LLMClient, StreamSink, is_loopback, run_sync
from .models import Classification, DraftResult, Email, Finding, LintReport
from .prompts import Prompts, default_prompts
from .redact import Redaction, Redactor, RestoringSink
from .review import AuditLog, Record, Review, default_agent

Text = str | bytes | Email


class Assistant:
    def __init__(self, settings: Settings | None = None, *, prompts: Prompts | None = None) -> None:
        self.settings = settings or Settings()
        self.prompts = prompts or default_prompts()
        self.linter = Linter(self.settings)
        self._llm: LLMClient | None = None
        self._audit: AuditLog | None = None
        self._redactor = Redactor(self.settings.sensitive_patterns)

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
        if self.settings.backend == "offline":
            return classify_offline(self.read(source))
        return run_sync(self.aclassify(source))

    async def aclassify(self, source: Text) -> Classification:
        if self.settings.backend == "offline":
            return classify_offline(self.read(source))
        shown, original, _ = self._for_model(source)
        return await aclassify_llm(
            shown, self.settings, self.prompts, self.llm, Exchange(), original
        )

    # what leaves this machine
    def _redacting(self) -> bool:
        mode = self.settings.redact
        return mode == "always" or (
            mode == "remote" and not is_loopback(self.settings.llm.base_url)
        )

    def _for_model(self, source: Text) -> tuple[Email | Received, Email | Received, Redaction]:
        """What the model is shown, the email as written, and the redaction between them.
        Unredacted, both are the email as received: its facts (most of intake's time) are then
        extracted while the model reads it."""
        received = (
            source
            if isinstance(source, Email)
            else intake.receive(source, max_bytes=self.settings.max_input_bytes)
        )
        if not self._redacting():
            return received, received, Redaction()
        email = intake.finish(received)
        outgoing, redaction = self._outgoing(email)
        return outgoing, email, redaction

    def _outgoing(self, email: Email) -> tuple[Email, Redaction]:
        """The email as a model may see it: customer data replaced by placeholders when the
        configuration says so (the default for any endpoint off this machine)."""
        redaction = Redaction()
        if not self._redacting():
            return email, redaction
        body = self._redactor.redact(email.body, redaction)
        subject = self._redactor.redact(email.subject, redaction) if email.subject else None
        facts = extract_facts(
            "\n".join(filter(None, [subject, body])), name_hint=email.facts.customer_name
        )
        redacted = email.model_copy(
            update={
                "body": body,
                "subject": subject,
                "raw": "",
                "quoted": None,
                "sender_address": None,
                "facts": facts,
            }
        )
        return redacted, redaction

    # lint
    def lint(self, text: str, *, email: Email | None = None) -> LintReport:
        allowed = amounts_in(email.body) if email else frozenset()
        return self.linter.lint(text, allowed_amounts=allowed)

    async def alint(self, text: str) -> LintReport:
        return await asyncio.to_thread(self.lint, text)

    # draft
    def draft(self, source: Text, *, stream: StreamSink | None = None) -> DraftResult:
        """Classify, draft and lint. `stream` receives the reply text as an LLM writes it."""
        if self.settings.backend == "offline":
            return self._draft_offline(self.read(source))
        return run_sync(self._adraft_llm(source, stream))

    async def adraft(self, source: Text, *, stream: StreamSink | None = None) -> DraftResult:
        if self.settings.backend == "offline":
            # CPU-bound and fast; a thread keeps the caller's event loop responsive anyway.
            return await asyncio.to_thread(self._draft_offline, self.read(source))
        return await self._adraft_llm(source, stream)

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

    async def _adraft_llm(self, source: Text, stream: StreamSink | None) -> DraftResult:
        exchange = Exchange()
        shown, original, redaction = self._for_model(source)
        # While the model classifies, the draft prompt's body cues are read too.
        classification = await aclassify_llm(
            shown, self.settings, self.prompts, self.llm, exchange, original, meanwhile=read_body
        )
        email, outgoing = intake.finish(original), intake.finish(shown)
        # The model sees only redacted facts; the agent's result keeps the real ones.
        seen = classification.model_copy(update={"facts": outgoing.facts})

        def lint_for_revision(reply: str) -> LintReport:
            # Lint what the agent will read; send back findings in the model's (redacted) words.
            report = self.lint(redaction.restore(reply), email=email)
            if not redaction.active:
                return report
            return LintReport(
                findings=[
                    f.model_copy(update={"text": self._redactor.redact(f.text, redaction)})
                    for f in report.findings
                ]
            )

        sink = (
            RestoringSink(redaction, stream) if stream is not None and redaction.active else stream
        )
        drafted = await adraft_llm(
            outgoing, seen, self.settings, self.prompts, self.llm, lint_for_revision, exchange, sink
        )
        reply = redaction.restore(drafted.reply)
        # Without redaction the loop's last lint already ran on exactly this reply.
        lint = self.lint(reply, email=email) if redaction.active else drafted.lint
        return DraftResult(
            email=email,
            classification=classification,
            meta_goal=redaction.restore(drafted.meta_goal),
            reply=reply,
            lint=lint,
            backend="openai",
            model=self.settings.llm.model,
            revisions=drafted.revisions,
            usage=exchange.usage if exchange.usage_reported else None,
            prompt_version=self.prompts.version,
            notes=[],
        )

    async def adraft_many(
        self, texts: Iterable[Text | tuple[str, Text]], *, concurrency: int = 8
    ) -> AsyncIterator[BatchResult]:
        """Draft many complaints, yielding each result as it finishes (not in input order).
        Items are texts (ids are their positions) or (id, text) pairs; a failed item is yielded
        with its error and does not stop the rest."""

        def items() -> Iterator[Item]:
            for number, entry in enumerate(texts):
                item_id, text = entry if isinstance(entry, tuple) else (str(number), entry)
                data = text.raw if isinstance(text, Email) else text
                yield Item(id=item_id, data=data)

        async for result in adraft_items(self, items(), concurrency):
            yield result

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
