"""Draft: the reply itself, from the offline playbooks or (later) an OpenAI-compatible LLM."""

from .offline import draft_offline, offline_notes, playbook_vars

__all__ = ["draft_offline", "offline_notes", "playbook_vars"]
