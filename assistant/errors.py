"""One small error hierarchy: the CLI maps each class to one sentence and an exit code."""


class AssistantError(Exception):
    """Base class. str(error) is one sentence a support agent can act on."""

    exit_code = 1


class InputError(AssistantError):
    """The text or file given to the tool cannot be used (empty, binary, too large, malformed)."""

    exit_code = 2


class ConfigError(AssistantError):
    """The configuration file or environment is wrong."""

    exit_code = 2


class TemplateError(AssistantError):
    """A prompt or reply template is missing or asks for a variable nobody gave it."""

    exit_code = 1


class BackendError(AssistantError):
    """The drafting or classification backend failed (unreachable, wrong key, rate limited)."""

    exit_code = 1
