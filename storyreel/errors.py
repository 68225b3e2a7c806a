"""Errors a user can act on. The CLI prints their message on one line and exits non-zero."""


class StoryreelError(Exception):
    """Base class: the message says what went wrong and how to fix it."""

    exit_code = 2


class InputError(StoryreelError):
    """Bad input from the user: prompt, page count, paths."""


class ConfigError(StoryreelError):
    """An unknown profile, section or key, or a value of the wrong type."""


class BackendError(StoryreelError):
    """A backend is unknown, not installed, or failed in a way the user can fix."""


class AgentError(StoryreelError):
    """An LLM agent could not produce valid output within its retries."""


class RunLockedError(StoryreelError):
    """Another process is writing to the same run directory."""
