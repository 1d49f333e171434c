"""The command line: exit codes 0 / 1 / 2, one-line user errors, the run folder on the last line."""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from supplyseg import cli, pipeline

BAD = Path(__file__).parent / "data" / "bad"
runner = CliRunner()


def _workspace(tmp_path: Path) -> Path:
    shutil.copy(BAD / "bad_price.csv", tmp_path / "lines.csv")
    (tmp_path / "supplyseg.yaml").write_text("data:\n  order_lines: {path: lines.csv}\n")
    return tmp_path


def test_init_writes_a_starter_and_refuses_to_overwrite(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["init", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ws" / "supplyseg.yaml").exists()
    again = runner.invoke(cli.app, ["init", str(tmp_path / "ws")])
    assert again.exit_code == 1
    assert "--force" in again.output


def test_check_prints_accounting(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["check", str(_workspace(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "order_lines" in result.output
    assert "bad_price 2" in result.output


def test_run_prints_the_run_folder_last(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["run", str(_workspace(tmp_path))])
    assert result.exit_code == 0, result.output
    last = Path(result.output.strip().splitlines()[-1])
    assert last.is_dir()
    assert (last / "manifest.json").exists()


def test_user_error_is_one_line_exit_1(tmp_path: Path) -> None:
    (tmp_path / "supplyseg.yaml").write_text("data:\n  order_lines: {path: missing.csv}\n")
    result = runner.invoke(cli.app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "file not found" in result.output


def test_unwritable_output_is_a_user_error(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    (ws / "out").write_text("a file where the output folder should be")
    result = runner.invoke(cli.app, ["check", str(ws)])
    assert result.exit_code == 1
    assert "is a file, not a folder" in result.output
    assert "Traceback" not in result.output


def test_disk_full_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out"))

    monkeypatch.setattr(pipeline, "run", full)
    result = runner.invoke(cli.app, ["run", str(_workspace(tmp_path))])
    assert result.exit_code == 1
    assert "No space left on device" in result.output
    assert "free disk space" in result.output


def test_publish_refuses_a_check_folder(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    assert runner.invoke(cli.app, ["check", str(ws)]).exit_code == 0
    check = next(p for p in (ws / "out").iterdir() if p.is_dir())
    db = f"sqlite:///{tmp_path / 'service.db'}"
    result = runner.invoke(cli.app, ["publish", str(ws), "--run", check.name, "--db", db])
    assert result.exit_code == 1
    assert "not a complete run" in result.output


def test_internal_error_exit_2_with_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(pipeline, "run", boom)
    result = runner.invoke(cli.app, ["run", str(_workspace(tmp_path))])
    assert result.exit_code == 2
    log = result.output.split("details in")[1].split()[0]
    assert "kaboom" in Path(log).read_text()


def _command_paths() -> list[list[str]]:
    """Every leaf command of the CLI as its argument path, sub-apps included (walked from the
    command group typer builds, so a new command cannot escape the help check below)."""
    out: list[list[str]] = []

    def walk(group: Any, path: list[str]) -> None:
        for name, command in sorted(group.commands.items()):
            if hasattr(command, "commands"):  # a group (typer vendors its own click)
                walk(command, [*path, name])
            else:
                out.append([*path, name])

    root = typer.main.get_command(cli.app)
    assert hasattr(root, "commands")
    walk(root, [])
    return out


COMMANDS = _command_paths()


def test_the_help_check_walks_every_command_group() -> None:
    shown = {" ".join(p) for p in COMMANDS}
    assert {"init", "check", "run", "synth", "demo", "report", "explain", "compare"} <= shown
    new = {"scenario run", "scenario compare", "policy approve", "policy reject", "policy status"}
    assert new | {"monitor", "intake watch", "bop", "publish", "keys create"} <= shown


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_help_shows_an_example(command: list[str]) -> None:
    result = runner.invoke(cli.app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example: supplyseg" in result.output


def test_explain_and_compare_on_two_runs(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    first = Path(runner.invoke(cli.app, ["run", str(ws)]).output.strip().splitlines()[-1])
    second = Path(runner.invoke(cli.app, ["run", str(ws)]).output.strip().splitlines()[-1])
    product = pd.read_parquet(second / "segments_product.parquet")["product_id"].iloc[0]
    result = runner.invoke(cli.app, ["explain", str(ws), "--product", str(product)])
    assert result.exit_code == 0, result.output
    assert "abc_xyz (primary)" in result.output
    missing = runner.invoke(cli.app, ["explain", str(ws), "--customer", "NOPE"])
    assert missing.exit_code == 1
    assert "is not in run" in missing.output
    both = runner.invoke(cli.app, ["explain", str(ws)])
    assert both.exit_code == 1
    result = runner.invoke(cli.app, ["compare", str(ws), first.name, second.name, "--product"])
    assert result.exit_code == 0, result.output
    matrix = pd.read_parquet(second / "segment_migration.parquet")
    products = pd.read_parquet(second / "demand_product.parquet")
    # Same data twice: every product stays in its segment.
    assert matrix["entities"].sum() == len(products)
    assert (matrix["from"] == matrix["to"]).all()
    unknown = runner.invoke(cli.app, ["compare", str(ws), "nope", second.name])
    assert unknown.exit_code == 1
    assert "not found" in unknown.output


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    # `supplyseg --help` must answer in well under a second: the analytics stack loads lazily.
    code = (
        "import sys, supplyseg.cli\n"
        "heavy = ('pandas', 'ibis', 'sklearn', 'plotly', 'statsforecast', 'duckdb')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_synth_with_suppliers_writes_the_purchasing_tables(tmp_path: Path) -> None:
    args = ["synth", str(tmp_path), "--customers", "30", "--products", "12", "--lines", "800"]
    result = runner.invoke(cli.app, [*args, "--suppliers", "4"])
    assert result.exit_code == 0, result.output
    for table in ("suppliers", "purchase_orders", "sourcing_options"):
        assert (tmp_path / "data" / f"{table}.parquet").exists(), table
    assert pd.read_parquet(tmp_path / "data" / "suppliers.parquet")["supplier_id"].nunique() == 4
