"""The ``erp:`` section: the layout of the ERP parameter export (``erp_parameters.csv/.xlsx``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ERP_FORMATS", "ErpFormat", "ErpSettings"]

ErpFormat = Literal["generic", "sap"]
ERP_FORMATS: tuple[ErpFormat, ...] = ("generic", "sap")


class ErpSettings(BaseModel):
    """How the ERP upload table is laid out; quantities are whole units, lead times days.

    ``format: generic`` keeps supplyseg's column names with a ``planning_method`` per item;
    ``sap`` writes SAP material master plant data (table MARC) field names with an MRP type
    per inventory rule (README, "ERP export"). ``plant`` is the SAP plant (WERKS) of items
    without a location; items with a location use their ``location_id``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: ErpFormat = Field(
        default="generic", description="generic (supplyseg names) or sap (MARC field names)."
    )
    plant: str | None = Field(
        default=None,
        min_length=1,
        max_length=4,
        description="SAP plant (WERKS, 4 characters) for items without a location;"
        " default empty (fill it in before the upload).",
    )
