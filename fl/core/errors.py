"""The one exception type the command line turns into a one-line message and exit code 2, and the
wrapper that does it."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click


class UserError(Exception):
    """Bad input from the user: unknown name, malformed config, missing data, chain down, ...

    The message must say what was wrong (naming the bad value) and what to do instead.
    """


def choices_error(kind: str, value: object, choices) -> UserError:
    """`unknown <kind> 'x'; choose one of: a, b, c`."""
    return UserError(f"unknown {kind} {value!r}; choose one of: {', '.join(sorted(choices))}")


def fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def guarded(fn: Callable[[], Any]) -> Any:
    """Run fn; a UserError or Ctrl-C becomes one line on stderr and a non-zero exit, no traceback."""
    try:
        return fn()
    except UserError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", 130)
