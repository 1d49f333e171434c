"""EDI order intake: X12 850 and EDIFACT ORDERS in, 997/TA1/CONTRL and 855/ORDRSP out.

Pure functions, no database: readers (`read_x12`, `read_edifact`) split an interchange and check
its envelopes, `purchase_order` maps a message declaratively (`X12_850`, `EDIFACT_ORDERS`),
`mapped_order` applies a `TradingPartner`'s part numbers and units, `order_ack`/`rejected_ack`
build acknowledgements and the writers render them. The service side is
`supplyseg.service.edi_intake`.

The package imports its modules on first use, so `supplyseg intake` (registered in the CLI)
starts without the config and pandas behind the trading-partner model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from supplyseg.edi.acks import REASON_CODES_EDI, Promise, ReasonFinding, order_ack, rejected_ack
    from supplyseg.edi.edifact import EdifactInterchange, EdifactMessage, read_edifact
    from supplyseg.edi.edifact_out import edifact_contrl, edifact_ordrsp
    from supplyseg.edi.mapping import EDIFACT_ORDERS, X12_850, MessageMap, Rule, purchase_order
    from supplyseg.edi.model import (
        EdiError,
        EdiSyntaxError,
        LineAck,
        PoLine,
        PurchaseOrder,
        PurchaseOrderAck,
        Segment,
    )
    from supplyseg.edi.partners import MappedOrder, TradingPartner, mapped_order
    from supplyseg.edi.x12 import FunctionalGroup, TransactionSet, X12Interchange, read_x12
    from supplyseg.edi.x12_out import x12_855, x12_997, x12_ta1

_EXPORTS = {
    "EDIFACT_ORDERS": "supplyseg.edi.mapping",
    "EdiError": "supplyseg.edi.model",
    "EdiSyntaxError": "supplyseg.edi.model",
    "EdifactInterchange": "supplyseg.edi.edifact",
    "EdifactMessage": "supplyseg.edi.edifact",
    "FunctionalGroup": "supplyseg.edi.x12",
    "LineAck": "supplyseg.edi.model",
    "MappedOrder": "supplyseg.edi.partners",
    "MessageMap": "supplyseg.edi.mapping",
    "PoLine": "supplyseg.edi.model",
    "Promise": "supplyseg.edi.acks",
    "PurchaseOrder": "supplyseg.edi.model",
    "PurchaseOrderAck": "supplyseg.edi.model",
    "REASON_CODES_EDI": "supplyseg.edi.acks",
    "ReasonFinding": "supplyseg.edi.acks",
    "Rule": "supplyseg.edi.mapping",
    "Segment": "supplyseg.edi.model",
    "TradingPartner": "supplyseg.edi.partners",
    "TransactionSet": "supplyseg.edi.x12",
    "X12Interchange": "supplyseg.edi.x12",
    "X12_850": "supplyseg.edi.mapping",
    "edifact_contrl": "supplyseg.edi.edifact_out",
    "edifact_ordrsp": "supplyseg.edi.edifact_out",
    "mapped_order": "supplyseg.edi.partners",
    "order_ack": "supplyseg.edi.acks",
    "purchase_order": "supplyseg.edi.mapping",
    "read_edifact": "supplyseg.edi.edifact",
    "read_x12": "supplyseg.edi.x12",
    "rejected_ack": "supplyseg.edi.acks",
    "x12_855": "supplyseg.edi.x12_out",
    "x12_997": "supplyseg.edi.x12_out",
    "x12_ta1": "supplyseg.edi.x12_out",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'supplyseg.edi' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "EDIFACT_ORDERS",
    "REASON_CODES_EDI",
    "X12_850",
    "EdiError",
    "EdiSyntaxError",
    "EdifactInterchange",
    "EdifactMessage",
    "FunctionalGroup",
    "LineAck",
    "MappedOrder",
    "MessageMap",
    "PoLine",
    "Promise",
    "PurchaseOrder",
    "PurchaseOrderAck",
    "ReasonFinding",
    "Rule",
    "Segment",
    "TradingPartner",
    "TransactionSet",
    "X12Interchange",
    "edifact_contrl",
    "edifact_ordrsp",
    "mapped_order",
    "order_ack",
    "purchase_order",
    "read_edifact",
    "read_x12",
    "rejected_ack",
    "x12_855",
    "x12_997",
    "x12_ta1",
]
