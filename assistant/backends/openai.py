"""The openai backend: any OpenAI-compatible endpoint (OpenAI, Azure, Ollama, vLLM, llama.cpp's
server, LM Studio), chosen by `llm.base_url` and `llm.model`.

By default one structured call per draft returns the classification, the meta-goal and the reply;
`llm.classify = "separate"` asks for the classification in a call of its own first. Lint errors go
back for a bounded number of rewrites either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ..classify.llm import aclassify_llm
from ..draft.llm import adraft_llm
from ..knowledge import Retrieved
from ..lint.judge import Judgement
from ..llm import Exchange, LLMClient, endpoint_name
from ..models import Classification, Drafted, Email
from . import Lint

if TYPE_CHECKING:
    from ..config import Settings
    from ..llm import Limiter, StreamSink
    from ..prompts import Prompts


class OpenAIBackend:
    name = "openai"
    parallel: Literal["processes", "tasks"] = "tasks"

    def __init__(
        self, settings: Settings, prompts: Prompts, *, client: LLMClient | None = None
    ) -> None:
        self.settings = settings
        self.prompts = prompts
        self._client = client

    @property
    def client(self) -> LLMClient:
        """Made on first use: commands that never call the model (lint, history) need no key."""
        if self._client is None:
            self._client = LLMClient(self.settings.llm)
        return self._client

    @property
    def model(self) -> str | None:
        return self.settings.llm.model

    @property
    def endpoint(self) -> str | None:
        return endpoint_name(self.settings.llm)

    async def classify(self, email: Email, hint: Classification) -> Classification:
        return await aclassify_llm(
            email, hint, self.settings, self.prompts, self.client, Exchange()
        )

    async def draft(
        self,
        email: Email,
        hint: Classification,
        lint: Lint,
        stream: StreamSink | None = None,
        *,
        knowledge: Retrieved | None = None,
    ) -> Drafted:
        knowledge = knowledge or Retrieved()
        exchange = Exchange()
        if self.settings.llm.classify == "separate":
            classification = await aclassify_llm(
                email, hint, self.settings, self.prompts, self.client, exchange
            )
            together = False
        else:
            classification, together = hint, True
        drafted = await adraft_llm(
            email,
            classification,
            self.settings,
            self.prompts,
            self.client,
            lint,
            exchange,
            stream,
            classify=together,
            knowledge=knowledge,
        )
        return drafted.model_copy(
            update={"usage": exchange.usage, "sources": knowledge.sources(offline=False)}
        )

    async def judge(self, email: Email, reply: str) -> Judgement | None:
        text = "\n".join(filter(None, [email.subject, email.body]))
        messages = [
            {
                "role": "system",
                "content": self.prompts.render("judge.md.j2", company=self.settings.company),
            },
            {
                "role": "user",
                "content": self.prompts.render("judge_user.md.j2", email=text, reply=reply),
            },
        ]
        exchange = Exchange()
        judgement = await self.client.astructured(messages, Judgement, exchange=exchange)
        return judgement.model_copy(update={"usage": exchange.usage})

    def limit(self, limiter: Limiter | None) -> None:
        self.client.limiter = limiter
