"""Review: a draft is not a reply until an agent approves it.

`Review` holds one draft under review (the current reply, its lint report, dismissed findings and
every edit) and writes it to the audit log after each change, starting as pending, so a crash,
Ctrl-C or kill never loses it. The terminal, the scripted CLI flags, the library and the web page
all drive this one object.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterable

from ..commitments import find_commitments
from ..errors import ApprovalError, InputError
from ..lint import strip_markers
from ..models import Commitment, DraftResult, Finding, LintReport
from .store import AuditLog, Confirmation, Edit, Record, _now, new_id

__all__ = [
    "ApprovalError",
    "AuditLog",
    "Confirmation",
    "Edit",
    "Record",
    "Review",
    "default_agent",
]

Stream = Callable[[str], None]
Dismissal = tuple[str, str, str]
"""(rule, matched text, reason): a dismissal as the web page and scripts send it."""


def default_agent() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user database entry, e.g. in some containers
        return "unknown"


class Review:
    def __init__(
        self,
        result: DraftResult,
        agent: str,
        log: AuditLog,
        *,
        lint: Callable[[str], LintReport],
        redraft: Callable[[Stream | None], DraftResult],
    ) -> None:
        """`lint` lints an edited reply against this draft's email; `redraft` drafts it afresh."""
        self.result = result
        self._lint = lint
        self._redraft = redraft
        self.log = log
        now = _now()
        self.record = Record(
            id=new_id(),
            created_at=now,
            updated_at=now,
            agent=agent,
            decision="pending",
            email_raw=result.email.raw,
            complaint=result.email.body,
            subject=result.email.subject,
            classification=result.classification,
            backend=result.backend,
            model=result.model,
            prompt_version=result.prompt_version,
            meta_goal=result.meta_goal,
            first_draft=result.reply,
            final_reply=result.reply,
            findings=result.lint.findings,
            dismissed=result.lint.dismissed,
            usage=result.usage,
            revisions=result.revisions,
            commitments=result.commitments,
        )
        self.report = result.lint
        self._save()

    @property
    def reply(self) -> str:
        return self.record.final_reply

    @property
    def commitments(self) -> list[Commitment]:
        """What the reply as it stands promises or claims done: each needs confirming."""
        return self.record.commitments

    def _save(self) -> None:
        self.record.updated_at = _now()
        self.record.findings = self.report.findings
        self.record.dismissed = self.report.dismissed
        self.log.save(self.record)

    def _relint(self, reply: str) -> LintReport:
        report = self._lint(reply)
        # A dismissal holds while the same rule still matches the same words.
        for dismissed in self.report.dismissed:
            match = report.matching(dismissed.finding.rule, dismissed.finding.text)
            if match is not None:
                report = report.dismiss(match, dismissed.reason)
        return report

    def edit(self, reply: str, note: str = "edited") -> LintReport:
        if not reply.strip():
            raise InputError("The edited reply is empty.")
        self.report = self._relint(reply)
        self.record.final_reply = reply
        self.record.commitments = find_commitments(reply)
        self.record.edits.append(Edit(at=_now(), text=reply, note=note))
        self._save()
        return self.report

    def apply_suggestion(self, finding: Finding) -> LintReport:
        if not finding.suggestion:
            raise InputError(f"{finding.rule} has no suggestion to apply.")
        reply = self.reply
        if reply[finding.start : finding.end] != finding.text:
            raise InputError("The reply changed since that finding; lint it again first.")
        return self.edit(
            reply[: finding.start] + finding.suggestion + reply[finding.end :],
            f"suggestion {finding.rule}",
        )

    def dismiss(self, finding: Finding, reason: str) -> LintReport:
        self.report = self.report.dismiss(finding, reason)
        self._save()
        return self.report

    def regenerate(self, stream: Stream | None = None) -> LintReport:
        fresh = self._redraft(stream)
        self.record.meta_goal = fresh.meta_goal
        self.record.revisions += fresh.revisions
        if fresh.usage is not None:
            self.record.usage = (
                fresh.usage if self.record.usage is None else self.record.usage + fresh.usage
            )
        self.report = LintReport(findings=fresh.lint.findings, dismissed=[])
        return self.edit(fresh.reply, "regenerated")

    def approve(
        self,
        override_reason: str | None = None,
        *,
        reply: str | None = None,
        dismissed: Iterable[Dismissal] = (),
        confirmed: Iterable[str | Commitment] = (),
    ) -> Record:
        """Approve the reply under review, or `reply` (an edit, linted first), after the
        `dismissed` findings still present are dismissed with their reasons. Each commitment
        the reply makes must be in `confirmed` (the commitment, or its text): the agent's word
        that it is done, or will be, as the reply says. Refused with ApprovalError while error
        findings remain or a commitment is unconfirmed, unless an override reason is given."""
        if reply is not None and reply != self.reply:
            self.edit(reply)
        for rule, text, reason in dismissed:
            finding = self.report.matching(rule, text)
            if finding is not None:
                self.dismiss(finding, reason)
        overridden = bool(override_reason and override_reason.strip())
        errors = self.report.errors()
        if errors and not overridden:
            rules = ", ".join(sorted({f.rule for f in errors}))
            raise ApprovalError(
                f"Approval refused: {len(errors)} error finding(s) remain ({rules}); fix them, dismiss them "
                "with a reason, or approve with an override reason."
            )
        words = {c.text if isinstance(c, Commitment) else c.strip() for c in confirmed}
        unconfirmed = [c for c in self.commitments if c.text not in words]
        if unconfirmed and not overridden:
            listed = "; ".join(f'"{c.text}"' for c in unconfirmed)
            raise ApprovalError(
                f"Approval refused: {len(unconfirmed)} commitment(s) not confirmed ({listed}); "
                "confirm each is done or will be, edit it out, or approve with an override reason."
            )
        now = _now()
        self.record.confirmed = [
            Confirmation(commitment=c, status="done" if c.done else "will_do", at=now)
            for c in self.commitments
            if c.text in words
        ]
        self.record.decision = "approved"
        self.record.override_reason = (
            override_reason.strip() if (errors or unconfirmed) and override_reason else None
        )
        sendable = strip_markers(self.reply, keep=self.record.first_draft)
        if sendable != self.reply:
            self.record.edits.append(Edit(at=_now(), text=sendable, note="lint markers removed"))
            self.record.final_reply = sendable
        self._save()
        return self.record

    def reject(self, reason: str) -> Record:
        if not reason.strip():
            raise InputError("A rejection needs a reason.")
        self.record.decision = "rejected"
        self.record.reason = reason.strip()
        self._save()
        return self.record
