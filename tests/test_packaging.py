"""Release packaging: version from the metadata, every data file shipped, no stray database.

The built wheel itself is installed and run outside the source tree by `.ci/run` (after
`make test`); these tests catch the same mistakes earlier, in the source tree.
"""

from __future__ import annotations

import fnmatch
import tomllib
from importlib.metadata import metadata, version
from pathlib import Path

import pytest
from typer.testing import CliRunner

import supplyseg
from supplyseg import cli

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "supplyseg"
runner = CliRunner()


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_version_is_the_package_metadata() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    # Differs only when pyproject.toml was bumped without reinstalling (pip install -e .).
    assert version("supplyseg") == project["version"] == supplyseg.__version__
    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"supplyseg {project['version']}\n"


def test_license_metadata_is_spdx_with_the_file() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_every_data_file_in_the_package_is_declared_as_package_data() -> None:
    tool = _pyproject()["tool"]
    assert isinstance(tool, dict)
    patterns = tool["setuptools"]["package-data"]["supplyseg"]
    data = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert data, "expected templates, starter.yaml and py.typed"
    missing = [f for f in data if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert missing == [], f"add these to [tool.setuptools.package-data] in pyproject: {missing}"


def test_runtime_dependencies_hold_no_test_tools() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    runtime = " ".join(project["dependencies"])
    for tool in ("pytest", "hypothesis", "ruff", "mypy", "openpyxl", "playwright", "httpx"):
        assert tool not in runtime
    assert "psycopg" not in runtime  # the postgres extra
    requires = metadata("supplyseg").get_all("Requires-Dist") or []
    assert any("psycopg" in r and 'extra == "postgres"' in r for r in requires)


def test_db_option_reads_the_environment_and_writes_only_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    db = tmp_path / "chosen.db"
    result = runner.invoke(
        cli.app, ["keys", "create", "--role", "admin"], env={"SUPPLYSEG_DB_URL": f"sqlite:///{db}"}
    )
    assert result.exit_code == 0, result.output
    assert db.exists()
    assert list(cwd.iterdir()) == []


def test_service_commands_without_a_database_say_how_to_name_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SUPPLYSEG_DB_URL", raising=False)
    for args in (["serve"], ["keys", "create", "--role", "admin"]):
        result = runner.invoke(cli.app, args)
        assert result.exit_code == 1, result.output
        assert "no service database" in result.output
        assert "SUPPLYSEG_DB_URL" in result.output
    assert list(tmp_path.iterdir()) == []
