"""The run workbook written in a second process while the pipeline's later steps still run.

XlsxWriter is pure Python at ~250k cells/s, so a workbook of a real export takes as long as all
the analytics together. Its sheets need only tables that are final, and most of them are final
once the segment step is done, so the pipeline hands each finished step's tables to a worker
process (`BackgroundWorkbook.add`), which writes their sheets on the other core while the
forecast, policy and simulation steps run; `finish` sends the rest and waits. The worker is
started with ``spawn`` (a fork of a process with DuckDB and Arrow threads can deadlock).

A failure in the worker is raised by `finish` as a `WorkbookError` with the worker's message;
`abort` kills the worker and drops its half-built file (the pipeline calls it on any error).
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from supplyseg.errors import SupplysegError
from supplyseg.report.run_folder import TABLE_ORDER
from supplyseg.report.workbook import DETAIL_MAX_ROWS, EXCEL_MAX_ROWS, SheetInfo, WorkbookBuilder

__all__ = ["BackgroundWorkbook", "WorkbookError"]

_POLL_SECONDS = 0.5


class WorkbookError(SupplysegError):
    """The workbook worker failed; the message is the worker's error."""


def _work(
    run_dir: str, path: str, max_rows: int, detail_max_rows: int | None, tasks: Any, results: Any
) -> None:
    """Worker loop: a list of tables adds sheets, None closes the workbook."""
    builder = None
    try:
        builder = WorkbookBuilder(
            Path(run_dir), Path(path), max_rows=max_rows, detail_max_rows=detail_max_rows
        )
        while (tables := tasks.get()) is not None:
            builder.add(tables)
        results.put(("ok", [info.__dict__ for info in builder.close()]))
    except BaseException as exc:
        if builder is not None:
            builder.abort()
        traceback.print_exc()  # the worker's stderr is the terminal's: the details stay visible
        results.put(("error", f"{type(exc).__name__}: {exc}"))


class BackgroundWorkbook:
    """A `WorkbookBuilder` in a worker process; tables go to it as they become final."""

    def __init__(
        self,
        run_dir: Path,
        path: Path,
        *,
        max_rows: int = EXCEL_MAX_ROWS - 1,
        detail_max_rows: int | None = DETAIL_MAX_ROWS,
    ) -> None:
        self._run_dir = Path(run_dir)
        ctx = mp.get_context("spawn")
        self._tasks: Any = ctx.Queue()
        self._results: Any = ctx.Queue()
        self.sent: dict[str, tuple[int, int]] = {}  # table -> (size, mtime_ns) when sent
        self.stale = False
        self._proc = ctx.Process(
            target=_work,
            args=(str(run_dir), str(path), max_rows, detail_max_rows, self._tasks, self._results),
            name="supplyseg-workbook",
            daemon=True,
        )
        self._proc.start()

    def add(self, tables: Sequence[str]) -> None:
        """Queue sheets for tables whose Parquet files are final (each table at most once)."""
        new = [t for t in tables if t not in self.sent]
        for table in new:
            self.sent[table] = _signature(self._run_dir / f"{table}.parquet")
        if new:
            self._tasks.put(new)

    def sync(self, hold: Sequence[str] = ("rejects",)) -> None:
        """After a step: queue the tables that appeared in the run folder (in report order;
        ``hold`` waits for `finish`, to keep its sheet last) and mark the workbook stale if a
        table already queued was written again."""
        present = {p.stem: p for p in self._run_dir.glob("*.parquet")}
        if any(_signature(present.get(t)) != sig for t, sig in self.sent.items()):
            self.stale = True
        known = [t for t in TABLE_ORDER if t in present]
        ordered = known + sorted(set(present) - set(known))
        self.add([t for t in ordered if t not in hold])

    def finish(self) -> list[SheetInfo]:
        """Queue the remaining tables, close the workbook and wait for the worker."""
        self.sync(hold=())
        if self.stale:
            raise WorkbookError("workbook: a table changed after its sheet was written")
        self._tasks.put(None)
        while True:
            try:
                status, payload = self._results.get(timeout=_POLL_SECONDS)
                break
            except queue.Empty:
                if not self._proc.is_alive():
                    code = self._proc.exitcode
                    raise WorkbookError(
                        f"workbook: the worker process ended (exit code {code}) without"
                        " writing the workbook; rerun `supplyseg report <run folder>`"
                    ) from None
        self._proc.join()
        if status != "ok":
            raise WorkbookError(f"workbook: {payload}")
        return [SheetInfo(**info) for info in payload]

    def abort(self) -> None:
        """Stop the worker; its temporary folder goes with it or with the run's staging."""
        self._tasks.cancel_join_thread()  # nobody reads the queue any more
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()


def _signature(path: Path | None) -> tuple[int, int]:
    if path is None or not path.exists():
        return (-1, -1)
    st = path.stat()
    return (st.st_size, st.st_mtime_ns)
