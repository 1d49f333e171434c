"""The package's layers: a module imports only from lower layers (and its own package).

Read from the source with `ast` (every ``import`` anywhere in a module: top level, inside
functions, under ``TYPE_CHECKING``), so that a shortcut upwards fails here, not as an import
cycle or a slow ``import supplyseg`` later. DESIGN.md §2 draws the same picture.
"""

from __future__ import annotations

import ast
from pathlib import Path

import supplyseg

SRC = Path(supplyseg.__file__).parent

# Rank of each top-level module or package: it may import those of lower rank only.
LAYERS: dict[str, int] = {
    "errors": 0,
    "contract": 1,
    "config": 2,
    "engine": 3,
    "data": 4,
    "analytics": 5,
    "segment": 6,
    "policy": 6,
    "supply": 6,
    "allocation": 7,  # builds on the policies (fill-rate protection)
    "edi": 6,
    "report": 7,
    "runs": 7,
    "pipeline": 8,
    "api": 8,
    "scenario": 9,
    # Above scenario: the workbench approves, publishes and monitors runs (service/ui).
    "service": 10,
    "commands": 11,
    "cli": 12,
}
# Upward imports that are known and scheduled to go: (importer, imported module).
EXCEPTIONS: set[tuple[str, str]] = set()


def _unit(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def _imports(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append("(relative)")
    return found


def _modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if p != SRC / "__init__.py"]


def test_every_top_level_module_has_a_layer() -> None:
    units = {_unit(p) for p in _modules()}
    assert units - set(LAYERS) == set(), "give new top-level modules a rank in LAYERS"


def test_modules_import_only_downwards() -> None:
    offenders = []
    for path in _modules():
        unit = _unit(path)
        for name in _imports(path):
            if name == "(relative)":
                offenders.append(f"{path.relative_to(SRC)}: a relative import")
                continue
            parts = name.split(".")
            if parts[0] != "supplyseg" or len(parts) == 1:
                continue  # third-party, or the package itself (its __init__ is lazy)
            target = parts[1]
            if target == unit or (unit, name) in EXCEPTIONS:
                continue
            if LAYERS.get(target, 99) >= LAYERS.get(unit, -1):
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


def test_the_package_root_imports_nothing_heavy_at_import_time() -> None:
    # supplyseg/__init__.py may name anything, but only lazily (PEP 562) or for type checkers.
    tree = ast.parse((SRC / "__init__.py").read_text(encoding="utf-8"))
    eager = [
        node.module
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("supplyseg")
    ]
    assert eager == ["supplyseg.errors"]


def test_the_layering_test_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("def f():\n    from supplyseg.pipeline import run\n", encoding="utf-8")
    assert _imports(bad) == ["supplyseg.pipeline"]
