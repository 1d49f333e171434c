"""Configuration: the pydantic `Workspace` from ``supplyseg.yaml``, one module per section."""

from supplyseg.config.workspace import (
    CONFIG_FILE,
    Analysis,
    EngineSettings,
    RowRule,
    Source,
    Workspace,
    config_hash,
    load_workspace,
    workspace_from_dict,
)

__all__ = [
    "CONFIG_FILE",
    "Analysis",
    "EngineSettings",
    "RowRule",
    "Source",
    "Workspace",
    "config_hash",
    "load_workspace",
    "workspace_from_dict",
]
