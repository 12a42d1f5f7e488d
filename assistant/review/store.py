"""The audit log: every draft an agent saw and what they decided, in SQLite.

WAL mode, one transaction per decision, numbered migrations applied once and recorded (the
pattern of llm's migrations.py). A process killed at any moment leaves the database consistent:
SQLite commits are atomic, and a draft is saved as pending before anyone starts reviewing it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..errors import ConfigError, InputError
from ..models import Classification, Commitment, DismissedFinding, Finding, Usage

Decision = Literal["pending", "approved", "rejected"]
CHECKPOINT_EVERY = 200  # commits between background WAL checkpoints
WAL_LIMIT = 16 * 1024 * 1024  # bytes the WAL file is cut back to after a checkpoint


class Edit(BaseModel):
    at: datetime
    text: str
    note: str | None = None
    """What made this version: "edited", "suggestion blame-user-error", "regenerated"."""


class Confirmation(BaseModel):
    """An agent's word that a commitment is done, or will be done, as the reply says."""

    commitment: Commitment
    status: Literal["done", "will_do"]
    at: datetime


class Record(BaseModel):
    """One complaint's review, as stored."""

    id: str
    created_at: datetime
    updated_at: datetime
    agent: str
    decision: Decision
    email_raw: str
    complaint: str
    subject: str | None = None
    classification: Classification
    backend: str
    model: str | None = None
    prompt_version: str | None = None
    meta_goal: str
    first_draft: str
    final_reply: str
    edits: list[Edit] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    dismissed: list[DismissedFinding] = Field(default_factory=list)
    override_reason: str | None = None
    reason: str | None = None
    """Why it was rejected."""
    usage: Usage | None = None
    revisions: int = 0
    commitments: list[Commitment] = Field(default_factory=list)
    """What the reply as it stands promises or claims done."""
    confirmed: list[Confirmation] = Field(default_factory=list)
    """The agent's confirmation of each, given at approval."""


Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_records(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE records (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            agent TEXT NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('pending', 'approved', 'rejected')),
            category TEXT NOT NULL,
            urgency TEXT NOT NULL,
            email_raw TEXT NOT NULL,
            complaint TEXT NOT NULL,
            subject TEXT,
            classification TEXT NOT NULL,
            backend TEXT NOT NULL,
            model TEXT,
            prompt_version TEXT,
            meta_goal TEXT NOT NULL,
            first_draft TEXT NOT NULL,
            final_reply TEXT NOT NULL,
            findings TEXT NOT NULL,
            dismissed TEXT NOT NULL,
            override_reason TEXT,
            reason TEXT,
            usage TEXT,
            revisions INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute(
        """CREATE TABLE edits (
            record_id TEXT NOT NULL REFERENCES records(id),
            seq INTEGER NOT NULL,
            at TEXT NOT NULL,
            text TEXT NOT NULL,
            note TEXT,
            PRIMARY KEY (record_id, seq)
        )"""
    )


@migration
def m002_indexes(db: sqlite3.Connection) -> None:
    for column in ("created_at", "agent", "category", "decision"):
        db.execute(f"CREATE INDEX records_{column} ON records({column})")


@migration
def m003_commitments(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE records ADD COLUMN commitments TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE records ADD COLUMN confirmed TEXT NOT NULL DEFAULT '[]'")


def _now() -> datetime:
    return datetime.now(UTC)


def _dump(model: Any) -> str:
    if isinstance(model, list):
        return json.dumps([m.model_dump(mode="json") for m in model])
    return str(model.model_dump_json()) if model is not None else "null"


class AuditLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Customer emails live here: created readable by this user only (SQLite gives its
            # -wal and -shm files the database file's permissions).
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            # isolation_level=None: transactions are ours to open (BEGIN IMMEDIATE) and close.
            self.db = sqlite3.connect(
                self.path, isolation_level=None, timeout=30, check_same_thread=False
            )
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints, never corrupt
            self.db.execute("PRAGMA foreign_keys=ON")
            # Checkpoints run on a thread of their own, never inside an agent's approval.
            self.db.execute("PRAGMA wal_autocheckpoint=0")
            # After each checkpoint resets the log, its file is cut back to this size, so months
            # of writes from several processes never leave a WAL of hundreds of megabytes.
            self.db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
            self._commits = 0
            self._checkpointing = threading.Lock()
            # One connection, many threads (the web app): one user of it at a time.
            self._lock = threading.RLock()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"The audit log {self.path} cannot be opened: {exc}.") from None
        except OSError as exc:
            raise ConfigError(
                f"The audit log {self.path} cannot be created: {exc.strerror or exc}."
            ) from None

    def close(self) -> None:
        with self._checkpointing:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()

    def _after_commit(self) -> None:
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0 and not self._checkpointing.locked():
            threading.Thread(target=self._checkpoint, name="audit-checkpoint", daemon=True).start()

    def _checkpoint(self) -> None:
        # RESTART copies the log into the database and makes the next writer start it afresh, so
        # the WAL stays bounded under writers from several processes (they wait a moment, never
        # fail: the busy timeout covers it); its own connection, its own thread.
        with self._checkpointing:
            try:
                db = sqlite3.connect(self.path, timeout=30)
                try:
                    db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
                    db.execute("PRAGMA wal_checkpoint(RESTART)")
                finally:
                    db.close()
            except sqlite3.Error:
                pass  # the next checkpoint, or the one at close, catches up

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            else:
                self.db.execute("COMMIT")
                self._after_commit()

    def _migrate(self) -> None:
        with self._transaction() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            done = {row["name"] for row in db.execute("SELECT name FROM _migrations")}
            for fn in MIGRATIONS:
                if fn.__name__ not in done:
                    fn(db)
                    db.execute(
                        "INSERT INTO _migrations VALUES (?, ?)", (fn.__name__, _now().isoformat())
                    )

    @property
    def migrations(self) -> list[str]:
        return [
            row["name"] for row in self.db.execute("SELECT name FROM _migrations ORDER BY name")
        ]

    # Writing: each public method is one transaction ------------------------------------------

    def save(self, record: Record) -> Record:
        """Insert or replace the whole record and its edits, in one transaction."""
        with self._transaction() as db:
            self._write(db, record)
        return record

    def _write(self, db: sqlite3.Connection, r: Record) -> None:
        db.execute(
            """INSERT INTO records (id, created_at, updated_at, agent, decision, category, urgency,
                   email_raw, complaint, subject, classification, backend, model, prompt_version,
                   meta_goal, first_draft, final_reply, findings, dismissed, override_reason, reason,
                   usage, revisions, commitments, confirmed)
               VALUES (:id, :created_at, :updated_at, :agent, :decision, :category,
                   :urgency, :email_raw, :complaint, :subject, :classification, :backend, :model,
                   :prompt_version, :meta_goal, :first_draft, :final_reply, :findings, :dismissed,
                   :override_reason, :reason, :usage, :revisions, :commitments, :confirmed)
               ON CONFLICT(id) DO UPDATE SET updated_at=excluded.updated_at, agent=excluded.agent,
                   decision=excluded.decision, final_reply=excluded.final_reply, findings=excluded.findings,
                   dismissed=excluded.dismissed, override_reason=excluded.override_reason,
                   reason=excluded.reason, usage=excluded.usage, revisions=excluded.revisions,
                   meta_goal=excluded.meta_goal, commitments=excluded.commitments,
                   confirmed=excluded.confirmed""",
            {
                "id": r.id,
                "created_at": r.created_at.isoformat(),
                "updated_at": r.updated_at.isoformat(),
                "agent": r.agent,
                "decision": r.decision,
                "category": r.classification.category.value,
                "urgency": r.classification.urgency,
                "email_raw": r.email_raw,
                "complaint": r.complaint,
                "subject": r.subject,
                "classification": _dump(r.classification),
                "backend": r.backend,
                "model": r.model,
                "prompt_version": r.prompt_version,
                "meta_goal": r.meta_goal,
                "first_draft": r.first_draft,
                "final_reply": r.final_reply,
                "findings": _dump(r.findings),
                "dismissed": _dump(r.dismissed),
                "override_reason": r.override_reason,
                "reason": r.reason,
                "usage": _dump(r.usage),
                "revisions": r.revisions,
                "commitments": _dump(r.commitments),
                "confirmed": _dump(r.confirmed),
            },
        )
        stored = db.execute("SELECT COUNT(*) FROM edits WHERE record_id = ?", (r.id,)).fetchone()[0]
        for seq, edit in enumerate(r.edits[stored:], start=stored):
            db.execute(
                "INSERT INTO edits VALUES (?, ?, ?, ?, ?)",
                (r.id, seq, edit.at.isoformat(), edit.text, edit.note),
            )

    # Reading ---------------------------------------------------------------------------------

    def get(self, record_id: str) -> Record:
        with self._lock:
            return self._get(record_id)

    def _get(self, record_id: str) -> Record:
        row = self.db.execute(
            "SELECT * FROM records WHERE id = ? OR id LIKE ?", (record_id, f"{record_id}%")
        ).fetchall()
        if not row:
            raise InputError(f"No record {record_id} in the audit log {self.path}.")
        if len(row) > 1:
            raise InputError(f"{record_id} matches {len(row)} records; give more of the id.")
        return self._record(row[0])

    def query(
        self,
        *,
        agent: str | None = None,
        category: str | None = None,
        decision: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 50,
    ) -> list[Record]:
        clauses, args = [], []
        for column, value in (("agent", agent), ("category", category), ("decision", decision)):
            if value:
                clauses.append(f"{column} = ?")
                args.append(value)
        if since:
            clauses.append("created_at >= ?")
            args.append(since.isoformat())
        if until:
            clauses.append("created_at < ?")
            args.append(until.isoformat())
        with self._lock:
            return self._query(clauses, args, limit)

    def _query(self, clauses: list[str], args: list[Any], limit: int | None) -> list[Record]:
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT * FROM records {where} ORDER BY created_at DESC, id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [self._record(row) for row in self.db.execute(sql, args)]

    def count(self) -> int:
        with self._lock:
            return int(self.db.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def _record(self, row: sqlite3.Row) -> Record:
        edits = [
            Edit(at=datetime.fromisoformat(e["at"]), text=e["text"], note=e["note"])
            for e in self.db.execute(
                "SELECT * FROM edits WHERE record_id = ? ORDER BY seq", (row["id"],)
            )
        ]
        usage = json.loads(row["usage"]) if row["usage"] else None
        return Record(
            id=row["id"],
            created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            agent=row["agent"],
            decision=row["decision"],
            email_raw=row["email_raw"],
            complaint=row["complaint"],
            subject=row["subject"],
            classification=Classification.model_validate_json(row["classification"]),
            backend=row["backend"],
            model=row["model"],
            prompt_version=row["prompt_version"],
            meta_goal=row["meta_goal"],
            first_draft=row["first_draft"],
            final_reply=row["final_reply"],
            edits=edits,
            findings=[Finding.model_validate(f) for f in json.loads(row["findings"])],
            dismissed=[DismissedFinding.model_validate(d) for d in json.loads(row["dismissed"])],
            override_reason=row["override_reason"],
            reason=row["reason"],
            usage=Usage.model_validate(usage) if usage else None,
            revisions=row["revisions"],
            commitments=[Commitment.model_validate(c) for c in json.loads(row["commitments"])],
            confirmed=[Confirmation.model_validate(c) for c in json.loads(row["confirmed"])],
        )

    def integrity(self) -> str:
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def export(records: list[Record], fmt: Literal["jsonl", "csv"]) -> str:
    if fmt == "jsonl":
        return "".join(r.model_dump_json() + "\n" for r in records)
    out = io.StringIO()
    columns = [
        "id",
        "created_at",
        "agent",
        "decision",
        "category",
        "urgency",
        "backend",
        "model",
        "complaint",
        "final_reply",
        "override_reason",
        "reason",
        "findings",
        "dismissed",
        "total_tokens",
    ]
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for r in records:
        writer.writerow(
            {
                "id": r.id,
                "created_at": r.created_at.isoformat(),
                "agent": r.agent,
                "decision": r.decision,
                "category": r.classification.category.value,
                "urgency": r.classification.urgency,
                "backend": r.backend,
                "model": r.model or "",
                "complaint": r.complaint,
                "final_reply": r.final_reply,
                "override_reason": r.override_reason or "",
                "reason": r.reason or "",
                "findings": "; ".join(f.rule for f in r.findings),
                "dismissed": "; ".join(f"{d.finding.rule}: {d.reason}" for d in r.dismissed),
                "total_tokens": r.usage.total_tokens if r.usage else "",
            }
        )
    return out.getvalue()
