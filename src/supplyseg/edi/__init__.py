"""EDI order intake: X12 850 and EDIFACT ORDERS in, 997/TA1/CONTRL and 855/ORDRSP out.

Pure functions, no database: readers (`read_x12`, `read_edifact`) split an interchange and check
its envelopes, `purchase_order` maps a message declaratively (`X12_850`, `EDIFACT_ORDERS`),
`mapped_order` applies a `TradingPartner`'s part numbers and units, `order_ack`/`rejected_ack`
build acknowledgements and the writers render them. The service side is
`supplyseg.service.edi_intake`.
"""

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
