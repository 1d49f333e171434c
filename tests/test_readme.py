"""The configuration examples in README.md are valid workspaces (docs that cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from supplyseg.config import workspace_from_dict

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_yaml_blocks_are_valid_workspace_sections() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    merged: dict[str, object] = {}
    for block in blocks:
        merged.update(yaml.safe_load(block))
    ws = workspace_from_dict(merged, root=README.parent, origin="README.md")
    assert ws.segmentation.custom["key_accounts"].default == "standard"
    assert ws.cost_to_serve.pools[0].name == "order_handling"
