"""``supplyseg intake``: the file inbox that replaces e-mailed spreadsheets and EDI mailboxes.

Registered in `supplyseg.cli`; imports the service only inside the command, so the CLI starts
fast.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["intake_app"]

intake_app = typer.Typer(help="Order intake channels (file inbox).", no_args_is_help=True)


@intake_app.command("watch")
def watch(
    directory: Annotated[
        Path, typer.Argument(help="Inbox folder (processed/ and failed/ are made inside).")
    ],
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="SUPPLYSEG_DB_URL",
            show_envvar=True,
            help="Service database URL: sqlite:///path/service.db or postgresql+psycopg://...",
        ),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Process what is there, then exit (tests, cron).")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between scans.", min=0.1)] = 2.0,
) -> None:
    """Process .edi/.x12 (X12 850, EDIFACT ORDERS), .csv and .xlsx order files dropped in DIRECTORY.

    Each file goes to processed/ or failed/ (with a .reason.txt); acknowledgements are written to
    the service's EDI documents (GET /edi/messages). Without --once a file is taken once its size
    and time stop changing between two scans (still being copied otherwise).

    Example: supplyseg intake watch ./inbox --db sqlite:///service.db --once
    """
    from rich.console import Console

    from supplyseg.errors import SupplysegError

    out = Console()
    try:
        _watch(directory, db, once, interval, out)
    except SupplysegError as exc:
        out.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def _watch(directory: Path, db: str | None, once: bool, interval: float, out: Console) -> None:
    from supplyseg.errors import SupplysegError
    from supplyseg.service.db import engine_for, migrate, session_factory
    from supplyseg.service.inbox import InboxUnavailableError, inbox_files, process_file
    from supplyseg.service.policy_store import PolicyCache
    from supplyseg.service.settings import Settings

    if not db:
        raise SupplysegError(
            "no service database; fix: pass --db sqlite:///path/service.db or set SUPPLYSEG_DB_URL"
        )
    if not directory.is_dir():
        raise SupplysegError(f"{directory}: no such folder; fix: create it or name the inbox")
    engine = engine_for(Settings.from_env(db_url=db))
    try:
        migrate(engine)
        sessions, cache = session_factory(engine), PolicyCache()
        seen: dict[Path, tuple[int, float]] = {}
        while True:
            for path in inbox_files(directory):
                st = path.stat()
                stamp = (st.st_size, st.st_mtime)
                if not once and seen.get(path) != stamp:
                    seen[path] = stamp  # still being written? take it next scan if unchanged
                    continue
                seen.pop(path, None)
                try:
                    result = process_file(path, sessions, cache)
                except InboxUnavailableError as exc:
                    if once:
                        raise
                    out.print(f"[yellow]waiting:[/yellow] {exc}")
                    break
                if result is not None:
                    colour = "green" if result.outcome == "processed" else "red"
                    why = f" ({result.reasons[0]})" if result.reasons else ""
                    out.print(f"[{colour}]{result.outcome}[/{colour}] {path.name}{why}")
            if once:
                return
            time.sleep(interval)
    finally:
        engine.dispose()
