"""The ``supplyseg`` command line (typer + rich).

Exit codes: 0 ok, 1 user error (one-line fix on stderr), 2 internal error (log path).
"""

from __future__ import annotations

import time
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from supplyseg.commands import err, out
from supplyseg.commands import user_errors as _user_errors
from supplyseg.commands.intake import intake_app
from supplyseg.commands.scenario import monitor, policy_app, scenario_app
from supplyseg.errors import SupplysegError

if TYPE_CHECKING:
    from supplyseg.pipeline import RunResult

# Commands import the pipeline, config and report inside their bodies: those pull in pandas,
# Ibis, scikit-learn and Plotly (~2 s), which `--help` and `init` never need.

app = typer.Typer(
    name="supplyseg",
    help="Supply chain segmentation: demand classes, cost-to-serve, segments, policies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from supplyseg import __version__

        print(f"supplyseg {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the installed version (from the package metadata) and exit.",
        ),
    ] = False,
) -> None:
    """Supply chain segmentation: demand classes, cost-to-serve, segments, policies."""


WorkspaceDir = Annotated[Path, typer.Argument(help="Workspace folder holding supplyseg.yaml.")]
Backend = Annotated[
    str | None,
    typer.Option(
        help="Engine: duckdb (default), spark, a Spark master URL (local[4], spark://host:7077,"
        " sc://host:15002) or an Ibis URL; overrides engine: in supplyseg.yaml."
    ),
]


# The machine, not the data or supplyseg: full or read-only disk, no permission, a file in the
# way of a folder. These are the user's to fix (exit 1), unlike other OSErrors (bugs).


def _run_with_progress(directory: Path, backend: str | None, check_only: bool) -> RunResult:
    from supplyseg import pipeline
    from supplyseg.config import load_workspace

    ws = load_workspace(directory)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("starting", total=None)

        started = time.perf_counter()

        def progress(step: str, i: int, n: int) -> None:
            bar.update(task, description=step, completed=i, total=n)
            if not err.is_terminal:  # logs and CI: one plain line per step instead of a bar
                elapsed = time.perf_counter() - started
                err.print(f"[{i + 1}/{n}] {step} (at {elapsed:.1f} s)", highlight=False)

        return pipeline.run(ws, backend=backend, progress=progress, check_only=check_only)


def _accounting_table(result: RunResult) -> Table:
    table = Table(title="Row accounting (read = loaded + rejected)", title_justify="left")
    for col in ("table", "read", "loaded", "rejected", "rejects by reason"):
        table.add_column(col, justify="left" if col in ("table", "rejects by reason") else "right")
    for name, acc in result.manifest["tables"].items():
        reasons = "\n".join(f"{r} {n:,}" for r, n in acc["reasons"].items()) or "-"
        table.add_row(
            name, f"{acc['read']:,}", f"{acc['loaded']:,}", f"{acc['rejected']:,}", reasons
        )
    return table


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing supplyseg.yaml.")] = False,
) -> None:
    """Write a commented starter workspace (DIR/supplyseg.yaml).

    Example: supplyseg init ./acme
    """
    with _user_errors():
        target = directory / "supplyseg.yaml"
        if target.exists() and not force:
            raise SupplysegError(f"{target} exists; fix: pass --force to overwrite it")
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "data").mkdir(exist_ok=True)
        target.write_text(
            files("supplyseg").joinpath("starter.yaml").read_text(encoding="utf-8"),
            encoding="utf-8",
        )
        out.print(f"wrote {target}: map your columns, then run `supplyseg check {directory}`")


@app.command()
def check(directory: WorkspaceDir, backend: Backend = None) -> None:
    """Load and validate only; print the row-accounting table.

    Example: supplyseg check ./acme
    """
    with _user_errors():
        result = _run_with_progress(directory, backend, check_only=True)
        out.print(_accounting_table(result))
        out.print(f"rejects: {result.path / 'rejects.parquet'}")


@app.command("run")
def run_cmd(directory: WorkspaceDir, backend: Backend = None) -> None:
    """Run the whole pipeline; the last line printed is the run folder.

    Example: supplyseg run ./acme
    """
    with _user_errors():
        result = _run_with_progress(directory, backend, check_only=False)
        out.print(_accounting_table(result))
        for note in result.manifest["notes"]:
            out.print(f"[dim]note:[/] {note}", highlight=False)
        print(result.path)


@app.command()
def synth(
    directory: Annotated[Path, typer.Argument(help="Folder to write the workspace to.")],
    customers: Annotated[int, typer.Option(help="Number of customers.")] = 2000,
    products: Annotated[int, typer.Option(help="Number of products.")] = 500,
    lines: Annotated[int, typer.Option(help="Number of order lines.")] = 200_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same company).")] = 0,
    suppliers: Annotated[
        int, typer.Option(help="Suppliers, with purchase orders and sourcing options (0: none).")
    ] = 0,
) -> None:
    """Generate a synthetic company with known truth as a ready workspace.

    Writes DIR/supplyseg.yaml, DIR/data/*.parquet and DIR/truth/*.parquet.

    Example: supplyseg synth ./synthco --customers 500 --lines 50000 --seed 7 --suppliers 20
    """
    with _user_errors():
        from supplyseg.data.synth import synth_company, write_workspace

        company = synth_company(
            customers=customers, products=products, lines=lines, seed=seed, suppliers=suppliers
        )
        path = write_workspace(company, directory)
        out.print(f"wrote {path} ({len(company.order_lines):,} order lines)")


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo workspace.")] = Path(
        "demo-workspace"
    ),
) -> None:
    """Generate the bundled demo company and run the whole pipeline on it.

    Example: supplyseg demo ./demo-workspace
    """
    with _user_errors():
        from supplyseg.data.samples import demo_workspace

        demo_workspace(directory)
        result = _run_with_progress(directory, None, check_only=False)
        out.print(_accounting_table(result))
        print(result.path)


@app.command()
def report(
    directory: WorkspaceDir,
    run_id: Annotated[str | None, typer.Option("--run", help="Run id (default latest).")] = None,
) -> None:
    """Write report.html and workbook.xlsx for a run (done by `run` already; this redoes it).

    Example: supplyseg report ./acme --run 20250101T080000-ab12
    """
    with _user_errors():
        from supplyseg.config import load_workspace
        from supplyseg.pipeline import run_path
        from supplyseg.report import write_report

        result = write_report(run_path(load_workspace(directory), run_id))
        out.print(f"report: {result.html}\nworkbook: {result.workbook}")


@app.command("explain")
def explain_cmd(
    directory: WorkspaceDir,
    customer: Annotated[str | None, typer.Option(help="Customer id to explain.")] = None,
    product: Annotated[str | None, typer.Option(help="Product id to explain.")] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="Run id (default latest).")] = None,
) -> None:
    """Show why a customer or product is in its segments (latest run by default).

    Example: supplyseg explain ./acme --customer C00042
    """
    with _user_errors():
        if (customer is None) == (product is None):
            raise SupplysegError("give exactly one of --customer ID or --product ID")
        entity, entity_id = ("customer", customer) if customer else ("product", product)
        from supplyseg.config import load_workspace
        from supplyseg.pipeline import explain

        rows = explain(load_workspace(directory), entity, str(entity_id), run_id)
        table = Table(title=f"{entity} {entity_id}", title_justify="left")
        for col in ("scheme", "segment", "why"):
            table.add_column(col)
        for r in rows.itertuples():
            mark = " (primary)" if r.primary else ""
            table.add_row(f"{r.scheme}{mark}", str(r.segment), str(r.explanation))
        out.print(table)


@app.command()
def compare(
    directory: WorkspaceDir,
    run_a: Annotated[str | None, typer.Argument(help="Earlier run id.")] = None,
    run_b: Annotated[str | None, typer.Argument(help="Later run id.")] = None,
    window: Annotated[
        int | None,
        typer.Option(help="Instead of two runs: the last N months against the N before."),
    ] = None,
    product: Annotated[bool, typer.Option(help="Compare product segments.")] = False,
) -> None:
    """Segment migration between two runs (or two windows of the data): matrix and movers.

    The tables are written into the later run's folder.

    Example: supplyseg compare ./acme 20250101T080000-ab12 20250201T080000-cd34

    Example: supplyseg compare ./acme --window 12
    """
    with _user_errors():
        entity = "product" if product else "customer"
        from supplyseg.config import load_workspace
        from supplyseg.pipeline import compare_runs, compare_windows

        ws = load_workspace(directory)
        if window is not None:
            if run_a or run_b:
                raise SupplysegError("give either two run ids or --window N, not both")
            matrix, movers, path = compare_windows(ws, window, entity)
            run_a, run_b = f"{window} months before", f"last {window} months"
        elif run_a and run_b:
            matrix, movers, path = compare_runs(ws, run_a, run_b, entity)
        else:
            raise SupplysegError("give two run ids (see out/) or --window N")
        table = Table(title=f"{entity} segment migration {run_a} -> {run_b}", title_justify="left")
        for col in matrix.columns:
            table.add_column(str(col), justify="right" if col != "from" and col != "to" else "left")
        for row in matrix.itertuples(index=False):
            table.add_row(*(f"{v:,.0f}" if isinstance(v, float) else str(v) for v in row))
        out.print(table)
        out.print(f"{len(movers):,} movers; written to {path}")


# Nothing is written to the current folder unless asked: `publish` defaults to service.db in
# the workspace; `serve` and `keys` need the database named (--db or SUPPLYSEG_DB_URL, the
# variable the service itself reads; --db wins).
DbUrl = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="SUPPLYSEG_DB_URL",
        show_envvar=True,
        help="Service database URL: sqlite:///path/service.db or"
        " postgresql+psycopg://user:pw@host/db.",
    ),
]


def _db(db: str | None) -> str:
    if not db:
        raise SupplysegError(
            "no service database; fix: pass --db sqlite:///path/service.db (the file `supplyseg"
            " publish` wrote: by default <workspace>/service.db) or set SUPPLYSEG_DB_URL"
        )
    return db


keys_app = typer.Typer(help="Manage the order service's API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(intake_app, name="intake")
app.add_typer(scenario_app, name="scenario")
app.add_typer(policy_app, name="policy")
app.command()(monitor)


@app.command()
def publish(
    directory: WorkspaceDir,
    run_id: Annotated[str | None, typer.Option("--run", help="Run id (default latest).")] = None,
    db: DbUrl = None,
    by: Annotated[str, typer.Option(help="Who publishes (the approval history).")] = "cli",
) -> None:
    """Publish a run's policy version to the order service database (atomic; becomes active).

    The database defaults to service.db in the workspace folder. With
    policies.require_approval the version must be approved (`supplyseg policy approve`).

    Example: supplyseg publish ./acme --db sqlite:///acme-service.db
    """
    with _user_errors():
        from supplyseg.config import load_workspace
        from supplyseg.pipeline import require_complete, run_path
        from supplyseg.scenario.approval import check_publishable, record_publish
        from supplyseg.service.commands import publish_policy, read_policy_file

        ws = load_workspace(directory)
        folder = run_path(ws, run_id)
        require_complete(folder)
        check_publishable(ws, folder)  # draft -> approved -> published -> retired
        path = folder / "policy_document.json"
        if not path.exists():
            raise SupplysegError(
                f"{path}: this run has no policy document (no customer segments?); fix: check"
                " the run's manifest notes, then run again"
            )
        url = db or f"sqlite:///{(directory / 'service.db').resolve()}"
        from supplyseg.service.promise_files import read_allocation_files

        allocation = read_allocation_files(folder)
        version = publish_policy(url, read_policy_file(path), allocation=allocation)
        record_publish(ws, folder, by)
        out.print(f"published policy version {version} to {url}")


@app.command()
def serve(
    db: DbUrl = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workspace: Annotated[
        Path | None,
        typer.Option(
            envvar="SUPPLYSEG_WORKSPACE",
            show_envvar=True,
            help="Workspace folder whose runs the workbench (/ui) shows: approval, KPIs,"
            " alerts, explanations, scenarios.",
        ),
    ] = None,
) -> None:
    """Run the order validation service (OpenAPI docs at /docs, workbench at /ui).

    Example: supplyseg serve --db sqlite:///acme-service.db --workspace ./acme --port 8000
    """
    with _user_errors():
        from supplyseg.service.commands import serve as serve_app

        serve_app(_db(db), host=host, port=port, workspace=workspace)


@app.command()
def bop(db: DbUrl = None) -> None:
    """Backorder processing: re-confirm open order lines against current supply by segment.

    Example: supplyseg bop --db sqlite:///acme-service.db
    """
    with _user_errors():
        from supplyseg.service.commands import run_backorder_processing

        result = run_backorder_processing(_db(db))
        out.print(f"backorder processing: {result['lines']} open lines, {result['changes']}")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="submitter, operator or admin.")],
    db: DbUrl = None,
    customer: Annotated[
        list[str] | None,
        typer.Option(
            help="Customer a submitter or operator key is bound to (repeatable); not for admin"
            " keys."
        ),
    ] = None,
    label: Annotated[str, typer.Option(help="Who or what uses the key (shown by list).")] = "",
) -> None:
    """Create an API key; the key is printed once (only its hash is stored).

    Example: supplyseg keys create --role submitter --customer C00001 --db sqlite:///svc.db
    """
    with _user_errors():
        from supplyseg.service.commands import create_api_key, customers_not_in_policy

        url = _db(db)
        token = create_api_key(url, role, customer, label=label)
        for c in customers_not_in_policy(url, customer or []):
            err.print(
                f"warning: customer {c!r} is not in the active policy version; the key cannot"
                " submit valid orders for it until a published policy names it",
                highlight=False,
                soft_wrap=True,
            )
        print(token)


@keys_app.command("list")
def keys_list(db: DbUrl = None) -> None:
    """List the API keys: id, role, customers, label, created, revoked (never the secret).

    Example: supplyseg keys list --db sqlite:///svc.db
    """
    with _user_errors():
        from supplyseg.service.commands import list_api_keys

        table = Table(title="API keys", title_justify="left")
        for col in ("key_id", "role", "customers", "label", "created", "revoked"):
            table.add_column(col)
        for k in list_api_keys(_db(db)):
            table.add_row(
                k.key_id,
                k.role,
                "all" if k.customers is None else ", ".join(k.customers),
                k.label,
                f"{k.created_at:%Y-%m-%d %H:%M:%S}Z",
                f"{k.revoked_at:%Y-%m-%d %H:%M:%S}Z" if k.revoked_at else "",
            )
        out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (`supplyseg keys list`).")],
    db: DbUrl = None,
) -> None:
    """Revoke an API key: requests with it get 401 (a running server notices within
    SUPPLYSEG_API_KEY_CACHE_S seconds, 5 by default). The key stays listed, for audit.

    Example: supplyseg keys revoke 3f9a1c2b7d4e --db sqlite:///svc.db
    """
    with _user_errors():
        from supplyseg.service.commands import revoke_key

        revoke_key(_db(db), key_id)
        out.print(f"revoked API key {key_id}")


if __name__ == "__main__":  # pragma: no cover
    app()
