"""The pipeline in one object: intake -> classify -> prompts -> draft -> lint.

`Assistant` is what the CLI, the web app and other tools call; the module-level functions in
`assistant/__init__.py` use a default one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from . import intake
from .classify import classify_offline
from .config import Settings, load_settings
from .draft import draft_offline, offline_notes
from .errors import ConfigError
from .lint import Linter, amounts_in
from .models import Classification, DraftResult, Email, LintReport
from .prompts import Prompts, default_prompts

Text = str | bytes | Email


class Assistant:
    def __init__(self, settings: Settings | None = None, *, prompts: Prompts | None = None) -> None:
        self.settings = settings or Settings()
        self.prompts = prompts or default_prompts()
        self.linter = Linter(self.settings)

    @classmethod
    def from_config(cls, path: str | Path | None = None) -> Assistant:
        """Settings from the TOML file (or $ASSISTANT_CONFIG) and the environment."""
        return cls(load_settings(path))

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
        if self.settings.backend != "offline":
            raise ConfigError(
                f'The {self.settings.backend} backend is not available in this version; set backend = "offline".'
            )
        return classify_offline(email)

    # lint
    def lint(self, text: str, *, email: Email | None = None) -> LintReport:
        allowed = amounts_in(email.body) if email else frozenset()
        return self.linter.lint(text, allowed_amounts=allowed)

    # draft
    def draft(self, source: Text) -> DraftResult:
        email = self.read(source)
        classification = self.classify(email)
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

    async def adraft(self, source: Text) -> DraftResult:
        # The offline drafter is CPU-bound and fast; a thread keeps an event loop responsive anyway.
        return await asyncio.to_thread(self.draft, source)

    async def aclassify(self, source: Text) -> Classification:
        return await asyncio.to_thread(self.classify, source)

    async def alint(self, text: str) -> LintReport:
        return await asyncio.to_thread(self.lint, text)
