"""The offline backend: the learned and hand-written classifier's reading, and the reply composed
from the playbook templates. No key, no network; the default."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

from ..draft.offline import draft_offline, offline_notes
from ..knowledge import Retrieved
from ..models import Classification, Drafted, Email
from . import Lint

if TYPE_CHECKING:
    from ..config import Settings
    from ..lint.judge import Judgement
    from ..llm import Limiter, StreamSink
    from ..prompts import Prompts


class OfflineBackend:
    name = "offline"
    model: str | None = None
    endpoint: str | None = None
    parallel: Literal["processes", "tasks"] = "processes"

    def __init__(self, settings: Settings, prompts: Prompts) -> None:
        self.settings = settings
        self.prompts = prompts

    async def classify(self, email: Email, hint: Classification) -> Classification:
        return hint

    async def draft(
        self,
        email: Email,
        hint: Classification,
        lint: Lint,
        stream: StreamSink | None = None,
        *,
        knowledge: Retrieved | None = None,
    ) -> Drafted:
        # CPU work: in a thread, so an event loop serving other requests is never held up.
        return await asyncio.to_thread(self._compose, email, hint, lint, knowledge or Retrieved())

    def _compose(
        self, email: Email, classification: Classification, lint: Lint, knowledge: Retrieved
    ) -> Drafted:
        goal, reply = draft_offline(email, classification, self.settings, self.prompts, knowledge)
        report = lint(reply)
        if not report.ok:
            # The customer's words said back can carry what the linter stops ("I'm so sorry the
            # staff said it was my fault"): the reply without them is the safe one.
            goal, reply = draft_offline(
                email, classification, self.settings, self.prompts, knowledge, echo=False
            )
            report = lint(reply)
        return Drafted(
            classification=classification,
            meta_goal=goal,
            reply=reply,
            lint=report,
            notes=offline_notes(classification, knowledge),
            sources=knowledge.sources(offline=True),
        )

    async def judge(self, email: Email, reply: str) -> Judgement | None:
        return None  # no model to ask

    def limit(self, limiter: Limiter | None) -> None:
        return None
