"""Draft: the reply itself, from the offline playbooks (offline.py) or an OpenAI-compatible LLM
(llm.py)."""

from .offline import draft_offline, offline_notes, playbook_vars

__all__ = ["draft_offline", "offline_notes", "playbook_vars"]
