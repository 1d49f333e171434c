"""Scenarios as overlays: ``scenarios/<name>.yaml`` deep-merged onto ``supplyseg.yaml``.

A scenario file holds any part of the workspace file (service targets per segment, cost-to-serve
rates, holding rate ...) and the planned changes of the ``scenario:`` section
(`supplyseg.config.scenario`). Mappings merge key by key, anything else (numbers, text, lists)
replaces the workspace's value. The merged document is validated as a workspace, so unknown
keys are errors naming the scenario file. The scenario ``base`` is the workspace as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from supplyseg.config import CONFIG_FILE, Workspace, load_workspace, workspace_from_dict
from supplyseg.config.scenario import NAME_PATTERN

# The workspace loader's YAML reader: duplicate keys and zero-padded codes handled alike.
from supplyseg.config.workspace import _DuplicateKeysError, _read_yaml
from supplyseg.errors import ConfigError

__all__ = ["BASE", "SCENARIO_DIR", "deep_merge", "load_scenario", "scenario_names"]

SCENARIO_DIR = "scenarios"
BASE = "base"
"""The name of the workspace without an overlay."""


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``overlay`` on top of ``base``: mappings merge recursively, other values replace."""
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _workspace_file(directory: str | Path) -> Path:
    p = Path(directory)
    return p / CONFIG_FILE if p.is_dir() else p


def scenario_names(directory: str | Path) -> list[str]:
    """The scenarios of a workspace: the stems of ``scenarios/*.yaml``, sorted."""
    folder = _workspace_file(directory).parent / SCENARIO_DIR
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def _read(file: Path) -> Any:
    try:
        return _read_yaml(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{file}:{at}: not valid YAML ({exc}); fix the syntax") from None
    except _DuplicateKeysError as exc:
        raise ConfigError(
            f"{file}: duplicate key(s) {exc}: YAML keeps only the last one; fix: keep one"
        ) from None


def load_scenario(directory: str | Path, name: str) -> Workspace:
    """The workspace of scenario ``name`` (``base``: the workspace file as it is).

    `ConfigError` when the name is not a file name, the file is missing (the message lists
    the scenarios there are) or the merged document is not a valid workspace.
    """
    base = load_workspace(directory)  # errors in the workspace file are named as such
    if name == BASE:
        return base
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"scenario {name!r}: allowed letters, digits, _ . - (the stem of"
            f" {SCENARIO_DIR}/<name>.yaml)"
        )
    file = base.root / SCENARIO_DIR / f"{name}.yaml"
    if not file.is_file():
        known = scenario_names(base.root)
        raise ConfigError(
            f"{file}: no such scenario; fix: write it (any part of supplyseg.yaml plus a"
            f" scenario: section) or use one of {known or 'none yet'} (or {BASE!r})"
        )
    overlay = _read(file)
    if overlay is None:
        overlay = {}
    if not isinstance(overlay, dict):
        raise ConfigError(
            f"{file}: expected a mapping at the top level, found {type(overlay).__name__}"
        )
    section = overlay.get("scenario")
    given = section.get("name") if isinstance(section, dict) else None
    if given not in (None, name):
        raise ConfigError(
            f"{file}: scenario.name {given!r} differs from the file name {name!r}; fix: remove"
            " scenario.name (the file name is the scenario's name)"
        )
    raw = _read(_workspace_file(directory))
    merged = deep_merge(raw, overlay)
    if isinstance(merged.get("scenario"), dict | None):  # anything else fails validation
        merged["scenario"] = {**(merged.get("scenario") or {}), "name": name}
    return workspace_from_dict(merged, root=base.root, origin=f"{file} (over {CONFIG_FILE})")
