"""Command-line building blocks below `supplyseg.cli`: the consoles, the error guard every
command runs under, and the command groups (`scenario`, `policy`, `monitor`, `intake`) that
`supplyseg.cli` registers. Heavy modules are imported inside the commands, so ``--help`` stays
fast.
"""

from __future__ import annotations

import errno
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console

from supplyseg.errors import SupplysegError

__all__ = ["crash", "err", "out", "user_errors"]

out = Console()
err = Console(stderr=True)

_ENVIRONMENT_ERRNOS = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.ENOTDIR,
        errno.EEXIST,
        errno.EISDIR,
    }
)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn user mistakes into one red line (exit 1) and crashes into a log file (exit 2)."""
    try:
        yield
    except SupplysegError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        if exc.errno not in _ENVIRONMENT_ERRNOS:
            crash()
        where = exc.filename or "the output folder"
        err.print(
            f"[bold red]error:[/] cannot write {where}: {exc.strerror}; fix: free disk space,"
            " make the folder writable, or set output_dir in supplyseg.yaml",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception:
        crash()


def crash() -> NoReturn:
    """Log the traceback of a bug to a file and exit 2."""
    with tempfile.NamedTemporaryFile(
        "w", prefix="supplyseg-crash-", suffix=".log", delete=False
    ) as log:
        log.write(traceback.format_exc())
    err.print(
        f"[bold red]internal error[/] (a bug in supplyseg, not in your data); details in"
        f" {log.name} — please attach it to an issue.",
        highlight=False,
    )
    raise typer.Exit(2) from None
