"""The service package: public API, and the layering rule (it imports no pipeline or CLI)."""

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


def test_service_imports_only_lower_layers_and_itself() -> None:
    offenders = []
    for path in SERVICE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] == "supplyseg" and not name.startswith(ALLOWED):
                    offenders.append(f"{path.relative_to(SERVICE_DIR)}: {name}")
    assert offenders == []
    assert any(SERVICE_DIR.rglob("migrations/versions/0001_*.py"))
