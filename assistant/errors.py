"""One small error hierarchy: the CLI maps each class to one sentence and an exit code, the web
page to one sentence and an HTTP status."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class. str(error) is one sentence a support agent can act on."""

    exit_code = 1
    http_status = 400


class InputError(AssistantError):
    """The text or file given to the tool cannot be used (empty, binary, too large, malformed)."""

    exit_code = 2


class ConfigError(AssistantError):
    """The configuration file or environment is wrong."""

    exit_code = 2
    http_status = 500


class TemplateError(AssistantError):
    """A prompt or reply template is missing or asks for a variable nobody gave it."""

    exit_code = 1
    http_status = 500


class ApprovalError(AssistantError):
    """Approval refused: error findings remain and no override reason was given."""

    exit_code = 1
    http_status = 409


class RuleFileError(ValueError):
    """A lint rule file is malformed (a packaging mistake, not a user's)."""


class BackendError(AssistantError):
    """The drafting or classification backend failed. `status_code` is the endpoint's own HTTP
    status when it answered with one."""

    exit_code = 1
    http_status = 502

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class RateLimitedError(BackendError):
    """The endpoint kept answering 429 until the retries ran out."""

    http_status = 429


class AuthenticationError(BackendError):
    """The endpoint refused the API key (401) or its access to the model (403)."""


class ModelNotFoundError(BackendError):
    """The endpoint has no model by the configured name (404)."""


class UnreachableError(BackendError):
    """No connection to the endpoint could be made."""

    http_status = 503


class TimedOutError(BackendError):
    """The endpoint did not answer in time, on every attempt."""

    http_status = 504


class BadAnswerError(BackendError):
    """The model answered, but not with a usable reply (invalid, empty, refused, cut off)."""
