"""MkDocs hook: pages generated from the code, so that they cannot drift from it.

- ``configuration.md``: the marker ``<!-- config-reference -->`` becomes one table per section
  of ``supplyseg.yaml``, read from the pydantic models (key, type, default, description).
- ``openapi.json``: the service's OpenAPI schema, from the FastAPI app itself.
"""

from __future__ import annotations

import json
import tempfile
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

MARKER = "<!-- config-reference -->"


def _strip(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def type_name(tp: Any) -> str:
    """A short readable type: ``int``, ``week | month``, ``list[PoolSettings]``."""
    tp = _strip(tp)
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) if isinstance(a, str) else str(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(a) for a in get_args(tp))
    if origin is not None:
        args = ", ".join(type_name(a) for a in get_args(tp) if a is not Ellipsis)
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{args}]"
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp))


def _default(info: Any) -> str:
    if info.is_required():
        return "**required**"
    value = info.default if info.default_factory is None else info.default_factory()
    if value is PydanticUndefined:
        return ""
    if isinstance(value, BaseModel):
        return "see below" if type(value).model_fields else "{}"
    if isinstance(value, tuple | list) and value and isinstance(value[0], BaseModel):
        return f"{len(value)} built-in entries"
    text = json.dumps(value, default=str)
    return f"`{text}`" if len(text) <= 60 else f"`{text[:57]}...`"


def _models_in(tp: Any) -> list[type[BaseModel]]:
    tp = _strip(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    found: list[type[BaseModel]] = []
    for arg in get_args(tp):
        found += _models_in(arg)
    return found


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def model_reference(model: type[BaseModel], path: str, level: int = 2) -> list[str]:
    """Markdown for ``model`` at ``path`` and, below it, every model its fields hold."""
    doc = (model.__doc__ or "").strip()
    lines = [f"{'#' * level} `{path or 'top level'}`", ""]
    if doc:
        lines += [doc.split("\n\n")[0].replace("\n", " "), ""]
    lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, info in model.model_fields.items():
        if info.exclude:
            continue
        key = info.alias or name
        desc = info.description or ""
        lines.append(
            f"| `{key}` | {_cell(type_name(info.annotation))} | {_default(info)} | {_cell(desc)} |"
        )
        for sub in _models_in(info.annotation):
            origin = get_origin(_strip(info.annotation))
            suffix = ".<name>" if origin is dict else "[]" if origin in (list, tuple) else ""
            nested.append((f"{path}.{key}{suffix}".lstrip("."), sub))
    lines.append("")
    seen: set[type[BaseModel]] = set()
    for sub_path, sub in nested:
        if sub in seen:
            continue
        seen.add(sub)
        lines += model_reference(sub, sub_path, min(level + 1, 4))
    return lines


def config_reference() -> str:
    """The whole configuration reference, one section per top-level key of supplyseg.yaml."""
    from supplyseg.config import Workspace

    out: list[str] = []
    top = model_reference(Workspace, "", 2)
    out += top
    return "\n".join(out)


def openapi_schema() -> dict[str, Any]:
    """The service's OpenAPI document (an app on an in-memory database, never started)."""
    from supplyseg.service.app import create_app
    from supplyseg.service.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/openapi.db"
        app = create_app(Settings(db_url=url, migrate_on_start=False))
        try:
            return app.openapi()
        finally:
            app.state.engine.dispose()
            app.state.intake_engine.dispose()


def openapi_endpoints(schema: dict[str, Any]) -> str:
    """One row per operation of the OpenAPI document: method, path, summary."""
    rows = ["| method | path | what |", "|---|---|---|"]
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            summary = op.get("summary") or op.get("description", "").split("\n")[0]
            rows.append(f"| {method.upper()} | `{path}` | {_cell(summary)} |")
    return "\n".join(rows)


def service_settings() -> str:
    """The service's environment variables, from its pydantic-settings model."""
    from supplyseg.service.settings import ENV_PREFIX, Settings

    rows = ["| variable | type | default | meaning |", "|---|---|---|---|"]
    for name, info in Settings.model_fields.items():
        rows.append(
            f"| `{ENV_PREFIX}{name.upper()}` | {_cell(type_name(info.annotation))}"
            f" | {_default(info)} | {_cell(info.description or '')} |"
        )
    return "\n".join(rows)


GENERATED = {
    MARKER: config_reference,
    "<!-- openapi-endpoints -->": lambda: openapi_endpoints(openapi_schema()),
    "<!-- service-settings -->": service_settings,
}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    for marker, make in GENERATED.items():
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    text = json.dumps(openapi_schema(), indent=1)
    files.append(File.generated(config, "openapi.json", content=text))
    return files
