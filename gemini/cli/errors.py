"""The one place where errors become command-line failures: one line on stderr and exit status 1."""

from typing import Any

import click

from gemini.domain.errors import GeminiError

FAILURE_EXIT_CODE = 1


class GeminiCommandError(click.ClickException):
    exit_code = FAILURE_EXIT_CODE

    def __init__(self, message: str) -> None:
        # One line, however the cause was worded: scripts read stderr line by line.
        super().__init__(" ".join(message.split()))


class GeminiGroup(click.Group):
    """The top-level group: every subcommand runs inside it, so its ``invoke`` sees every failure."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GeminiError as exc:
            raise GeminiCommandError(str(exc)) from exc
