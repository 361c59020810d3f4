"""The two error classes every module raises for what a user can fix: below everything else,
so that any module can import them (elmtex.config re-exports them, where most code takes them)."""


class UserError(Exception):
    """An error the user can fix from its message: stage scripts print it without a traceback."""


class ConfigError(UserError, ValueError):
    """A config file or override that cannot be applied; the message says what to fix."""
