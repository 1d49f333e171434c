"""The documentation's Python examples run, and its generated reference covers every setting."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

import pytest
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ONLINE_RETAIL = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.parquet"
# Pages whose examples need the real data set (skipped when it is not beside the clone).
NEEDS_DATA = {"tutorial.md": ONLINE_RETAIL}


def _blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M)


def _pages_with_code() -> list[str]:
    return sorted(p.name for p in DOCS.glob("*.md") if _blocks(p))


def test_the_docs_have_examples_to_run() -> None:
    assert {"getting-started.md", "tutorial.md"} <= set(_pages_with_code())


@pytest.mark.parametrize("name", _pages_with_code())
def test_python_examples_run(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    needed = NEEDS_DATA.get(name)
    if needed is not None and not needed.exists():
        pytest.skip(f"{needed} is not there")
    monkeypatch.chdir(ROOT)  # paths in the examples are relative to the repository
    namespace: dict[str, Any] = {"__name__": f"docs.{name}"}
    for i, code in enumerate(_blocks(DOCS / name)):
        exec(compile(code, f"{name} block {i + 1}", "exec"), namespace)


def test_readme_python_api_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # The README's other blocks are fragments (they use a `history` or `items` of your own).
    blocks = [b for b in _blocks(ROOT / "README.md") if "supplyseg.load_frames" in b]
    assert blocks
    monkeypatch.chdir(ROOT)
    for i, code in enumerate(blocks):
        exec(compile(code, f"README.md block {i + 1}", "exec"), {"__name__": "readme"})


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hook", DOCS / "hooks" / "reference.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[type[BaseModel]]:
    if model in seen:
        return seen
    seen.add(model)
    for info in model.model_fields.values():
        stack: list[Any] = [info.annotation]
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                _models(tp, seen)
            stack.extend(get_args(tp))
    return seen


def test_configuration_reference_lists_every_key_of_every_section() -> None:
    from supplyseg.config import Workspace

    text = _hook().config_reference()
    missing = [
        f"{model.__name__}.{info.alias or name}"
        for model in _models(Workspace, set())
        for name, info in model.model_fields.items()
        if not info.exclude and f"| `{info.alias or name}` |" not in text
    ]
    assert missing == []
    assert "| `credit_notes` | 'net' | 'reject' |" in text.replace("\\|", "|")


def test_service_page_lists_every_variable_and_endpoint() -> None:
    hook = _hook()
    from supplyseg.service.settings import Settings

    settings = hook.service_settings()
    assert all(f"`SUPPLYSEG_{n.upper()}`" in settings for n in Settings.model_fields)
    endpoints = hook.openapi_endpoints(hook.openapi_schema())
    assert "| POST | `/orders` |" in endpoints
    assert "[openapi.json](openapi.json)" in (DOCS / "service.md").read_text(encoding="utf-8")
