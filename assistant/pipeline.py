"""The pipeline in one object: parse, (redact), classify, draft, lint.

`Assistant` is what the CLI, the web app, batch and other tools call; the module-level functions
in `assistant/__init__.py` use a default one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from pathlib import Path

from . import backends, intake, knowledge
from .batch import BatchResult, adraft_items, items_of
from .classify import classify_offline
from .classify.situation import asks_for_remedy, read_situation
from .commitments import find_commitments
from .config import Settings, data_dir, load_settings
from .draft.offline import answered_as
from .errors import BadAnswerError, InputError
from .intake.facts import amounts_in, extract_facts
from .knowledge import Retrieved
from .lint import Linter
from .lint.judge import Judgement, judge_findings
from .llm import StreamSink, run_sync
from .loopback import is_loopback_url
from .models import (
    Classification,
    Commitment,
    Coverage,
    DraftResult,
    Email,
    Finding,
    LintReport,
    Text,
)
from .prompts import Prompts, default_prompts
from .redact import Redaction, Redactor, RestoringSink
from .review import AuditLog, Record, Review, default_agent


class Assistant:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        prompts: Prompts | None = None,
        backend: backends.Backend | None = None,
    ) -> None:
        """`backend` replaces the one `settings.backend` names (a test's, another tool's own)."""
        self.settings = settings or Settings()
        self.prompts = prompts or default_prompts()
        self.linter = Linter(self.settings)
        self.backend = backend or backends.make(self.settings, self.prompts)
        self._audit: AuditLog | None = None
        # The web server's first drafts arrive together: one of them opens the audit log.
        self._opening_audit = threading.Lock()
        self._redactor = Redactor(self.settings.sensitive_patterns)
        if self.settings.knowledge.paths:
            knowledge.load(self.settings.knowledge.paths)  # a missing folder is an error now

    # retrieve
    def retrieve(self, email: Email, classification: Classification) -> Retrieved:
        """What the company's knowledge says about this complaint (nothing, with none set up)."""
        paths = self.settings.knowledge.paths
        base = knowledge.load(paths) if paths else None
        situation = classification.situation
        text = "\n".join(filter(None, [email.subject, email.body]))
        # A saved reply is for a category it names; an uncertain category gets none.
        business = self.settings.company.business
        category = (
            "other" if situation.uncertain else answered_as(self.prompts, classification, business)
        )
        # "Can you sort it out?" is answered by the remedy the draft offers, not by an article.
        questions = [q for q in situation.questions if not asks_for_remedy(q)]
        return knowledge.retrieve(base, text, questions, category)

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
        if not isinstance(source, str | bytes):
            raise InputError(
                f"A complaint is text, bytes or an Email, not {type(source).__name__}."
            )
        return intake.parse(source, max_bytes=self.settings.max_input_bytes)

    def read_file(self, path: str | Path) -> Email:
        return intake.read_file(path, max_bytes=self.settings.max_input_bytes)

    # classify
    def classify(self, source: Text) -> Classification:
        return run_sync(self.aclassify(source))

    async def aclassify(self, source: Text) -> Classification:
        email = self.read(source)
        reading = classify_offline(email)
        outgoing, redaction = self._outgoing(email)
        classification = await self.backend.classify(
            outgoing, self._shown(reading, outgoing, redaction)
        )
        return classification.model_copy(update={"facts": email.facts})

    # what leaves this machine
    def _redacting(self) -> bool:
        endpoint = self.backend.endpoint
        if endpoint is None:
            return False
        mode = self.settings.redact
        return mode == "always" or (mode == "remote" and not is_loopback_url(endpoint))

    def _outgoing(self, email: Email) -> tuple[Email, Redaction]:
        """The email as the backend may see it: customer data replaced by placeholders when the
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

    @staticmethod
    def _shown(reading: Classification, outgoing: Email, redaction: Redaction) -> Classification:
        """The offline reading as a hint for the backend, with only the facts and the customer's
        words it may see."""
        if not redaction.active:
            return reading
        return reading.model_copy(
            update={"facts": outgoing.facts, "situation": read_situation(outgoing, reading)}
        )

    # lint
    def lint(
        self,
        text: str,
        *,
        email: Text | None = None,
        exempt: bool = True,
        drafted: bool = False,
    ) -> LintReport:
        """`email` is the complaint the reply answers (text, bytes or a parsed Email).
        `exempt=False` for a model's reply: its quotations and markers exempt nothing.
        `drafted=True` for a draft under review, as drafted or edited: the approval gate holds
        it to the company profile's links and numbers, which in the agent's own reply only warn."""
        email = self.read(email) if email is not None else None
        allowed = amounts_in(email.body) if email else frozenset()
        return self.linter.lint(
            text,
            allowed_amounts=allowed,
            email=email.body if email else None,
            exempt=exempt,
            drafted=drafted,
        )

    async def alint(
        self, text: str, *, email: Text | None = None, drafted: bool = False
    ) -> LintReport:
        """`lint` in a worker thread: an event loop serving others is never held up."""
        return await asyncio.to_thread(self.lint, text, email=email, drafted=drafted)

    # draft
    def draft(self, source: Text, *, stream: StreamSink | None = None) -> DraftResult:
        """Classify, draft and lint. `stream` receives the reply text as an LLM writes it."""
        return run_sync(self.adraft(source, stream=stream))

    async def adraft(self, source: Text, *, stream: StreamSink | None = None) -> DraftResult:
        email = self.read(source)
        reading = classify_offline(email)
        outgoing, redaction = self._outgoing(email)

        # A model's quotations and markers are its own: they exempt nothing. (The offline
        # composer is this project's code, and quotes the customer's questions back.)
        exempt = self.backend.endpoint is None

        def lint_backend_reply(reply: str) -> LintReport:
            # Lint what the agent will read; send findings back in the backend's (redacted) words.
            report = self.lint(redaction.restore(reply), email=email, exempt=exempt, drafted=True)
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
        hint = self._shown(reading, outgoing, redaction)
        drafted = await self.backend.draft(
            outgoing,
            hint,
            lint_backend_reply,
            sink,
            knowledge=self.retrieve(outgoing, hint),
        )
        reply = redaction.restore(drafted.reply)
        lint = (
            self.lint(reply, email=email, exempt=exempt, drafted=True)
            if redaction.active
            else drafted.lint
        )
        usage = drafted.usage
        notes = list(drafted.notes)
        if self.settings.lint.judge:
            try:
                judgement = await self.backend.judge(outgoing, drafted.reply)
            except BadAnswerError as exc:
                # The judge only adds warnings: a judge that gives no usable answer must not
                # cost the agent the draft, and the agent is told it did not judge.
                judgement = None
                notes.append(
                    f"The LLM judge gave no usable answer, so only the linter judged this draft: {exc}"
                )
            if judgement is not None:
                lint = _with_judgement(lint, reply, judgement, redaction)
                if judgement.usage is not None:
                    usage = judgement.usage if usage is None else usage + judgement.usage
        final = drafted.classification.model_copy(update={"facts": email.facts})
        return DraftResult(
            email=email,
            classification=final.model_copy(update={"situation": read_situation(email, final)}),
            meta_goal=redaction.restore(drafted.meta_goal),
            reply=reply,
            lint=lint,
            backend=self.backend.name,
            model=self.backend.model,
            revisions=drafted.revisions,
            usage=usage,
            prompt_version=self.prompts.version,
            notes=notes,
            commitments=find_commitments(reply),
            sources=drafted.sources,
        )

    async def adraft_many(
        self, texts: Iterable[Text | tuple[str, Text]], *, concurrency: int = 8
    ) -> AsyncIterator[BatchResult]:
        """Draft many complaints, yielding each result as it finishes (not in input order).
        Items are texts (ids are their positions) or (id, text) pairs; a failed item is yielded
        with its error and does not stop the rest."""
        async for result in adraft_items(self, items_of(texts), concurrency):
            yield result

    # review and the audit log
    @property
    def audit(self) -> AuditLog:
        """The audit log, opened (and migrated) on first use."""
        with self._opening_audit:
            if self._audit is None:
                self._audit = AuditLog(self.settings.audit_db or data_dir() / "audit.sqlite3")
            return self._audit

    def review(self, result: DraftResult, *, agent: str | None = None) -> Review:
        """Start reviewing a draft: it is saved as pending at once."""
        return Review(
            result,
            agent or self.settings.agent or default_agent(),
            self.audit,
            lint=lambda reply: self.lint(reply, email=result.email, drafted=True),
            redraft=lambda stream: self.draft(result.email, stream=stream),
        )

    def approve(
        self,
        result: DraftResult,
        *,
        reply: str | None = None,
        agent: str | None = None,
        override_reason: str | None = None,
        dismissed: list[tuple[Finding, str]] | None = None,
        confirmed: Iterable[str | Commitment] = (),
    ) -> Record:
        """Approve a draft (or an edited `reply`, linted again first) and return the stored record.
        `confirmed` lists the commitments (or their texts) the agent confirms are done or will
        be. Raises ApprovalError while error findings remain or a commitment the reply makes is
        unconfirmed, without an override reason."""
        return self.review(result, agent=agent).approve(
            override_reason,
            reply=reply,
            dismissed=[(f.rule, f.text, reason) for f, reason in dismissed or []],
            confirmed=confirmed,
        )

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


def _with_judgement(
    report: LintReport, reply: str, judgement: Judgement, redaction: Redaction
) -> LintReport:
    """The judge's findings beside the linter's, one per span and category: where the linter
    already caught a sentence's category, the judge's opinion of it is not repeated."""
    restored = judgement.model_copy(
        update={
            "findings": [
                j.model_copy(update={"sentence": redaction.restore(j.sentence)})
                for j in judgement.findings
            ]
        }
    )
    coverage = Coverage(report.findings)
    added = [
        f
        for f in judge_findings(reply, restored)
        if not coverage.covers(f.category, f.start, f.end)
    ]
    findings = sorted([*report.findings, *added], key=lambda f: (f.start, f.end, f.rule))
    return report.model_copy(update={"findings": findings})
