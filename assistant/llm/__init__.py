"""The one place that talks to an OpenAI-compatible LLM (OpenAI, Azure, Ollama, vLLM, llama.cpp,
LM Studio), through the openai package and its own HTTP client.

- `client`: structured answers (json_schema, then json_object, then instructions), re-asks on
  invalid answers, usage, and one clear error per failure;
- `retry`: the retry policy (tenacity);
- `stream`: the reply text passed on as the model writes it;
- `sync`: running the async client from sync code.
"""

from .client import Exchange, Limiter, LLMClient, Message, endpoint_name
from .stream import FieldStream, StreamSink
from .sync import run_sync

__all__ = [
    "Exchange",
    "FieldStream",
    "LLMClient",
    "Limiter",
    "Message",
    "StreamSink",
    "endpoint_name",
    "run_sync",
]
