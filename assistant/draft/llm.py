"""The LLM drafter: the reply written by an OpenAI-compatible model from the Jinja prompts, then
linted; error findings go back through prompts/revise for a bounded number of rewrites.

With `classify=True` the same call also returns the classification fields (the offline reading is
in the prompt as a hint), so a draft costs one model call when the linter is satisfied.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

from ..classify.llm import CATEGORY_MEANINGS, LLMClassification, merge
from ..config import Settings
from ..knowledge import Retrieved
from ..llm import Exchange, LLMClient, StreamSink
from ..models import Classification, Drafted, Email, LintReport
from ..prompts import Prompts
from .offline import playbook, playbook_vars


class DraftOutput(BaseModel):
    # Lengths reject the placeholder answers small models give ("DraftOutput", ""), so they are
    # asked again instead of being shown to an agent as a draft.
    meta_goal: str = Field(min_length=15)
    reply: str = Field(min_length=40)


class ClassifiedDraft(DraftOutput, LLMClassification):
    """The classification fields first, then the meta-goal, then the reply (streamed last)."""


def draft_messages(
    email: Email,
    classification: Classification,
    settings: Settings,
    prompts: Prompts,
    *,
    classify: bool = False,
    knowledge: Retrieved | None = None,
) -> list[dict[str, str]]:
    """The system prompt holds what is the same for every complaint of a kind (the company, the
    guidelines, the playbook, the policy), the user prompt the complaint itself, so servers'
    prefix caches can reuse the first."""
    variables = playbook_vars(email, classification, settings)
    playbook_text, exported = prompts.render_with_exports(
        playbook(prompts, classification, settings), **variables
    )
    system = prompts.render(
        "system.md.j2",
        **variables,
        category_title=exported["title"],
        playbook=playbook_text,
        classify=classify,
        categories=CATEGORY_MEANINGS,
    )
    user = prompts.render(
        "user.md.j2",
        **variables,
        email=email,
        classification=classification,
        facts=classification.facts,
        classify=classify,
        knowledge_docs=(knowledge or Retrieved()).documents(),
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


async def adraft_llm(
    email: Email,
    classification: Classification,
    settings: Settings,
    prompts: Prompts,
    client: LLMClient,
    lint: Callable[[str], LintReport],
    exchange: Exchange,
    stream: StreamSink | None = None,
    *,
    classify: bool = False,
    knowledge: Retrieved | None = None,
) -> Drafted:
    messages = draft_messages(
        email, classification, settings, prompts, classify=classify, knowledge=knowledge
    )
    if classify:
        first = await client.astructured(
            messages, ClassifiedDraft, exchange=exchange, stream=stream
        )
        classification = merge(first, classification)
        output = DraftOutput(meta_goal=first.meta_goal, reply=first.reply)
    else:
        output = await client.astructured(messages, DraftOutput, exchange=exchange, stream=stream)
    report = lint(output.reply)
    revisions = 0
    while not report.ok and revisions < settings.llm.max_revisions:
        if stream is not None:
            stream("\n\n[revising: the draft had lint errors]\n\n")
        revise = prompts.render("revise.md.j2", findings=report.errors(), reply=output.reply)
        conversation = [
            *messages,
            {"role": "assistant", "content": output.model_dump_json()},
            {"role": "user", "content": revise},
        ]
        output = await client.astructured(
            conversation, DraftOutput, exchange=exchange, stream=stream
        )
        revisions += 1
        report = lint(output.reply)
    return Drafted(
        classification=classification,
        meta_goal=output.meta_goal,
        reply=output.reply,
        lint=report,
        revisions=revisions,
    )
