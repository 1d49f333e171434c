"""The workspace model: data sources, row rules, analysis settings; loaded from supplyseg.yaml."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from supplyseg.config.cost_to_serve import CostToServeSettings
from supplyseg.config.customer import CustomerSettings
from supplyseg.config.demand import DemandSettings
from supplyseg.config.erp import ErpSettings
from supplyseg.config.forecast import ForecastSettings
from supplyseg.config.messages import validation_message
from supplyseg.config.monitoring import MonitoringSettings
from supplyseg.config.policy import PolicySettings
from supplyseg.config.scenario import ScenarioSettings
from supplyseg.config.segmentation import SegmentationSettings
from supplyseg.config.simulation import SimulationSettings
from supplyseg.config.supplier import SupplierSettings
from supplyseg.config.tables import MAPPING_TAGS, DerivedColumn, RowRule, Source, check_source
from supplyseg.contract import TABLES
from supplyseg.errors import ConfigError

__all__ = [
    "Analysis",
    "DerivedColumn",
    "EngineSettings",
    "RowRule",
    "Source",
    "Workspace",
    "config_hash",
    "load_workspace",
]

CONFIG_FILE = "supplyseg.yaml"


class _Model(BaseModel):
    # Typos in YAML keys must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Analysis(_Model):
    """Analysis horizon, time bucket and how credit notes and zero prices are treated."""

    start: date | None = Field(default=None, description="First order date analysed (inclusive).")
    end: date | None = Field(default=None, description="Last order date analysed (inclusive).")
    bucket: Literal["day", "week", "month"] = "week"
    credit_notes: Literal["net", "reject"] = Field(
        default="net",
        description="net: credit-note rows are loaded and net demand and revenue;"
        " reject: they go to rejects with reason credit_note.",
    )
    allow_zero_price: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Analysis:
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class EngineSettings(_Model):
    """Which Ibis backend runs the analytics: in-process DuckDB by default, Spark, or an Ibis URL.

    ``backend: spark`` runs on Spark through Ibis's PySpark backend (``pip install
    'supplyseg[spark]'`` and, but for Spark Connect, a Java 17+ runtime): ``master`` is
    ``local[2]`` by default, or ``local[N]``, ``spark://host:7077``, ``yarn``, ``k8s://...``,
    or ``sc://host:15002`` for Spark Connect.
    """

    backend: Literal["duckdb", "spark"] = Field(
        default="duckdb", description="duckdb (in-process) or spark."
    )
    url: str | None = Field(
        default=None,
        description="Ibis URL, e.g. duckdb:///path/file.ddb; default: in-memory DuckDB."
        " Only with backend duckdb (Spark takes master).",
    )
    master: str | None = Field(
        default=None,
        description="Spark master URL (backend spark only); default local[2].",
    )
    spark_config: dict[str, str] = Field(
        default_factory=dict,
        description="Extra Spark settings (backend spark only), e.g. spark.driver.memory: 4g.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> EngineSettings:
        if self.backend == "spark" and self.url is not None:
            raise ValueError(
                ".url: url is for backend duckdb or another Ibis URL; with backend spark give"
                " the cluster as master (e.g. spark://host:7077 or sc://host:15002)"
            )
        if self.backend != "spark" and (self.master is not None or self.spark_config):
            given = "master" if self.master is not None else "spark_config"
            raise ValueError(f".{given}: only applies to backend spark; fix: add backend: spark")
        return self


class Workspace(_Model):
    """The whole of ``supplyseg.yaml``. ``root`` is the folder it was loaded from."""

    name: str = "supplyseg workspace"
    data: dict[str, Source]
    analysis: Analysis = Analysis()
    engine: EngineSettings = EngineSettings()
    demand: DemandSettings = DemandSettings()
    cost_to_serve: CostToServeSettings = CostToServeSettings()
    customer: CustomerSettings = CustomerSettings()
    segmentation: SegmentationSettings = SegmentationSettings()
    forecast: ForecastSettings = ForecastSettings()
    policies: PolicySettings = PolicySettings()
    erp: ErpSettings = ErpSettings()
    simulation: SimulationSettings = SimulationSettings()
    scenario: ScenarioSettings = ScenarioSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    supplier: SupplierSettings = SupplierSettings()
    output_dir: Path = Path("out")
    root: Path = Field(default=Path("."), exclude=True)

    @field_validator("data")
    @classmethod
    def _known_tables(cls, data: dict[str, Source]) -> dict[str, Source]:
        unknown = sorted(set(data) - set(TABLES))
        if unknown:
            raise ValueError(f"unknown table(s) {unknown}; allowed: {sorted(TABLES)}")
        if "order_lines" not in data:
            raise ValueError("order_lines is required: add data.order_lines with a path")
        for table, src in data.items():
            check_source(table, src)
        return data

    @model_validator(mode="after")
    def _matrix_has_pairs(self) -> Workspace:
        if self.policies.matrix and "customer_product" not in self.demand.grains:
            raise ValueError(
                "policies.matrix: its cells apply to customer x product pairs, but"
                f" demand.grains is {list(self.demand.grains)}; fix: add customer_product to"
                " demand.grains or remove policies.matrix"
            )
        return self

    def source_path(self, table: str) -> Path:
        """Absolute path of a table's source file (relative paths are under ``root``)."""
        p = self.data[table].path
        return p if p.is_absolute() else self.root / p

    @property
    def out_path(self) -> Path:
        """Absolute path of the output folder."""
        return self.output_dir if self.output_dir.is_absolute() else self.root / self.output_dir


def workspace_from_dict(raw: Any, *, root: Path, origin: str) -> Workspace:
    """Validate a parsed YAML mapping into a `Workspace`; errors name the YAML path and value."""
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{origin}: expected a mapping at the top level, found {type(raw).__name__};"
            " fix: start from `supplyseg init DIR`"
        )
    try:
        return Workspace.model_validate({**raw, "root": root})
    except ValidationError as exc:
        raise ConfigError(
            validation_message(exc, raw, origin=origin, model=Workspace, skip=MAPPING_TAGS)
        ) from None


class _DuplicateKeysError(Exception):
    """Keys given twice in one YAML mapping (the message lists them with their lines)."""


class _WorkspaceLoader(yaml.SafeLoader):
    """SafeLoader that notes duplicate keys and keeps zero-padded numbers as text.

    A second ``order_lines:`` would replace the first without a word; ``equals: 0123`` would be
    the octal number 83 in YAML 1.1, never matching the product code 0123.
    """

    duplicates: list[tuple[int, str]]


def _checked_mapping(loader: _WorkspaceLoader, node: yaml.MappingNode) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *defaults` keys may be overridden on purpose
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key, Hashable) and key in seen:
            where = f"line {line}" if seen[key] == line else f"lines {seen[key]} and {line}"
            loader.duplicates.append((line, f"{key!r} ({where})"))
        elif isinstance(key, Hashable):
            seen[key] = line
    return loader.construct_mapping(node, deep=True)


def _int_or_code(loader: _WorkspaceLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node))
    digits = text.lstrip("+-")
    if len(digits) > 1 and digits.startswith("0") and digits.isdigit():
        return text
    return loader.construct_yaml_int(node)


_WorkspaceLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _checked_mapping,
)
_WorkspaceLoader.add_constructor("tag:yaml.org,2002:int", _int_or_code)


def _read_yaml(text: str) -> Any:
    """Parse workspace YAML; `_DuplicateKeysError` when a mapping repeats a key."""
    loader = _WorkspaceLoader(text)
    loader.duplicates = []
    try:
        doc = loader.get_single_data()
    finally:
        loader.dispose()
    if loader.duplicates:
        raise _DuplicateKeysError(", ".join(text for _, text in sorted(loader.duplicates)))
    return doc


def load_workspace(path: str | Path) -> Workspace:
    """Load ``supplyseg.yaml`` from a folder or a file path.

    Examples
    --------
    >>> import tempfile
    >>> import supplyseg
    >>> from supplyseg.data.samples import demo_workspace
    >>> folder = tempfile.mkdtemp()
    >>> _ = demo_workspace(folder)  # a synthetic company's data and its supplyseg.yaml
    >>> workspace = supplyseg.load_workspace(folder)
    >>> sorted(workspace.data)[:3], workspace.analysis.bucket
    (['customers', 'inventory', 'invoices'], 'week')
    """
    p = Path(path)
    file = p / CONFIG_FILE if p.is_dir() else p
    if not file.exists():
        raise ConfigError(
            f"{file}: no workspace file here; fix: run `supplyseg init {p}` or point at the"
            " folder holding supplyseg.yaml"
        )
    try:
        raw = _read_yaml(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{file}:{at}: not valid YAML ({exc}); fix the syntax") from None
    except _DuplicateKeysError as exc:
        raise ConfigError(
            f"{file}: duplicate key(s) {exc}: YAML keeps only the last one, silently; fix: keep"
            " one of each (merge their settings)"
        ) from None
    return workspace_from_dict(raw, root=file.parent.resolve(), origin=str(file))


def config_hash(ws: Workspace) -> str:
    """A stable short hash of the validated configuration (what a run depends on)."""
    doc = ws.model_dump(mode="json", by_alias=True)
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]
