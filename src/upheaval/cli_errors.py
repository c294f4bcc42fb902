"""How every ``upheaval`` command reports a user's mistake: one line, exit status 2.

Shared by :mod:`upheaval.cli` and :mod:`upheaval.experiments.cli`. Three kinds of
mistake reach the user:

* the library's own errors (a bad scenario, an unusable directory …), which the
  commands catch and pass to :func:`fail`;
* click's command-line errors (an unknown option, ``--steps abc``, a missing
  argument), which click would print as a usage block of several lines: the
  :class:`OneLineErrors` group prints them as one line, naming the option;
* anything else is a bug, and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
from collections.abc import Iterator
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup
from typer.exceptions import Abort, TyperException

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention
EXIT_TERMINATED = 143  # 128 + SIGTERM

# The library names its keyword arguments; the command line names its flags. One
# place translates, so that library messages stay right for Python callers
# ("pass overwrite=True") and the CLI still tells the user which flag to give.
_PYTHON_TO_FLAG = ((re.compile(r"\b(?:overwrite|force)=True\b"), "--force"),)


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interruption so that results are closed cleanly."""


def raise_terminated(signum: int, frame: object) -> None:
    """A SIGTERM handler: stop the way Ctrl-C does."""
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM stops the command the way Ctrl-C does (results
    closed, exit 143) instead of killing it on the spot."""
    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupted_exit(e: KeyboardInterrupt) -> int:
    """The exit status for an interruption: 143 after SIGTERM, 130 after Ctrl-C."""
    return EXIT_TERMINATED if isinstance(e, Terminated) else EXIT_INTERRUPTED


def as_flags(message: str) -> str:
    """A library message in the command line's words (``overwrite=True`` → ``--force``)."""
    for pattern, flag in _PYTHON_TO_FLAG:
        message = pattern.sub(flag, message)
    return message


def fail(message: object) -> NoReturn:
    """Print ``error: MESSAGE`` as one line on stderr and exit with status 2."""
    # typer.echo, not rich: rich would wrap a long message over several lines.
    text = " ".join(as_flags(str(message)).split())
    typer.echo(f"error: {text}", err=True)
    raise typer.Exit(EXIT_USER_ERROR)


def warn(message: object) -> None:
    """Print ``warning: MESSAGE`` as one line on stderr."""
    typer.echo(f"warning: {' '.join(as_flags(str(message)).split())}", err=True)


class OneLineErrors(TyperGroup):
    """The app's group: click's usage errors as one line (``error: …``), exit 2.

    Click would print ``Usage: …``, a hint and a boxed message; a script reading
    stderr, or a person, wants the one line that says what is wrong. ``--help``,
    and a command given without its arguments, still print the help.
    """

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            # Non-standalone: click returns the exit code of typer.Exit instead of
            # calling sys.exit, and raises its usage errors for us to print.
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except TyperException as e:  # typer's (vendored) click errors
            if type(e).__name__ == "NoArgsIsHelpError":  # a command without arguments
                typer.echo(e.format_message(), err=True)
                sys.exit(e.exit_code)
            ctx = getattr(e, "ctx", None)
            where = f"{ctx.command_path}: " if ctx is not None else ""
            hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
            text = " ".join(e.format_message().split())
            typer.echo(f"error: {where}{text}{hint}", err=True)
            sys.exit(getattr(e, "exit_code", EXIT_USER_ERROR))
        except Abort:
            typer.echo("aborted", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)
