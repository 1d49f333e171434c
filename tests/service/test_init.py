"""The service package: public API, and the layering rule (it imports no pipeline or CLI; the
workbench reads the workspace lazily)."""

from __future__ import annotations

import ast
from pathlib import Path

import supplyseg.service as service

SERVICE_DIR = Path(service.__file__).parent
# The published contract lives in the policy layer, below the service; the EDI readers and
# writers are pure syntax, below it too.
ALLOWED = (
    "supplyseg.service",
    "supplyseg.errors",
    "supplyseg.config",
    "supplyseg.policy.document",
    "supplyseg.edi",
    "supplyseg.allocation",  # pure kernels (ATP, nesting, backorder LP) below the service
)


def test_public_api() -> None:
    assert service.__all__ == ["PolicyVersion", "create_api_key", "publish_policy", "serve"]
    for name in service.__all__:
        assert getattr(service, name) is not None


# The workbench (service/ui) reads the workspace's runs, approvals and scenarios, only when a
# page needs them: inside functions, so the order API never loads them.
UI_LAZY = ("supplyseg.scenario", "supplyseg.runs")


def _imports(tree: ast.Module) -> list[tuple[str, bool]]:
    """(module, at module level) of every absolute import."""
    top = {id(n) for n in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top))
    return found


def test_service_imports_only_lower_layers_and_itself() -> None:
    offenders = []
    for path in SERVICE_DIR.rglob("*.py"):
        in_ui = path.relative_to(SERVICE_DIR).parts[0] == "ui"
        for name, top_level in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if name.split(".")[0] != "supplyseg" or name.startswith(ALLOWED):
                continue
            if in_ui and not top_level and name.startswith(UI_LAZY):
                continue
            offenders.append(f"{path.relative_to(SERVICE_DIR)}: {name}")
    assert offenders == []
    assert any(SERVICE_DIR.rglob("migrations/versions/0001_*.py"))
