"""Database tables of the service (SQLAlchemy 2 declarative); the Alembic migrations create them.

Policy tables hold every published version (never updated, kept for audit); ``active_policy`` is a
single row (``id = 1``) naming the active version, so there is exactly one active version by
construction and switching versions is one row update inside the publishing transaction.

``orders.dedupe_key`` is unique: it is what makes retries idempotent across processes;
``batches.dedupe_key`` does the same for a whole batch sent with an ``Idempotency-Key``.
``audit`` is append-only (triggers created by the migration refuse UPDATE and DELETE).
``outbox`` is the notification feed, written in the same transaction as the status change.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ActivePolicy",
    "ApiKey",
    "Audit",
    "Base",
    "BatchRequest",
    "EdiMessageRow",
    "OrderException",
    "OrderLine",
    "OrderRow",
    "Outbox",
    "PolicyCustomer",
    "PolicyProduct",
    "PolicySegment",
    "PolicyVersionRow",
    "Reason",
    "TradingPartnerRow",
]

# Deterministic constraint names, so migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(64)


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class PolicyVersionRow(Base):
    """Header of one published policy version."""

    __tablename__ = "policy_versions"

    version_id: Mapped[str] = mapped_column(ID, primary_key=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source_run_id: Mapped[str] = mapped_column(String(200))
    config_hash: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    document_sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str] = mapped_column(String(200))


class ActivePolicy(Base):
    """The single row naming the active version."""

    __tablename__ = "active_policy"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version_id: Mapped[str] = mapped_column(ForeignKey("policy_versions.version_id"))
    activated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PolicySegment(Base):
    """Order rules of one segment in one version (the `SegmentRules` document as JSON)."""

    __tablename__ = "policy_segments"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("policy_versions.version_id"), primary_key=True
    )
    segment: Mapped[str] = mapped_column(ID, primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)


class PolicyCustomer(Base):
    """Segment membership and credit attributes of one customer in one version."""

    __tablename__ = "policy_customers"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("policy_versions.version_id"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(ID, primary_key=True)
    segment: Mapped[str] = mapped_column(ID)
    active: Mapped[bool] = mapped_column(Boolean)
    credit_limit: Mapped[float | None] = mapped_column(Float)
    open_receivables: Mapped[float] = mapped_column(Float)
    ship_to_ids: Mapped[list[str]] = mapped_column(JSON)


class PolicyProduct(Base):
    """List price and allowed segments/channels of one product in one version."""

    __tablename__ = "policy_products"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("policy_versions.version_id"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(ID, primary_key=True)
    list_price: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean)
    allowed_segments: Mapped[list[str] | None] = mapped_column(JSON)
    allowed_channels: Mapped[list[str] | None] = mapped_column(JSON)


class OrderRow(Base):
    """One submitted order and its current status."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer_po", "customer_id", "po_number"),
        Index("ix_orders_customer_status", "customer_id", "status"),
        Index("ix_orders_status_segment", "status", "segment"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(ID)
    po_number: Mapped[str] = mapped_column(ID)
    channel: Mapped[str] = mapped_column(String(16))
    order_date: Mapped[date] = mapped_column(Date)
    requested_date: Mapped[date] = mapped_column(Date)
    ship_to_id: Mapped[str | None] = mapped_column(ID)
    segment: Mapped[str | None] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(32))
    policy_version: Mapped[str] = mapped_column(ID)
    total_value: Mapped[float] = mapped_column(Float)
    validation_round: Mapped[int] = mapped_column(Integer)
    submitted_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BatchRequest(Base):
    """A batch sent with an ``Idempotency-Key``: the key's hash and the hash of the batch body."""

    __tablename__ = "batches"

    dedupe_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    n_orders: Mapped[int] = mapped_column(Integer)
    submitted_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderLine(Base):
    """One order line as currently held (amendments replace lines in place; audit keeps before)."""

    __tablename__ = "order_lines"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    product_id: Mapped[str] = mapped_column(ID)
    quantity: Mapped[float] = mapped_column(Float)
    unit_price: Mapped[float | None] = mapped_column(Float)
    # The ship-from the line asked for (migration 0007); null = any. Where its confirmed
    # quantity comes from is the promise's location_id (it may be a substitute).
    location_id: Mapped[str | None] = mapped_column(ID)


class Reason(Base):
    """One finding of one validation round of an order."""

    __tablename__ = "reasons"
    __table_args__ = (
        Index("ix_reasons_order_round", "order_id", "validation_round"),
        Index("ix_reasons_code", "code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    validation_round: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    line_no: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(200))
    policy_version: Mapped[str] = mapped_column(ID)
    suggested_value: Mapped[str | None] = mapped_column(String(200))


class OrderException(Base):
    """An order in the exception queue: opened by a failed validation, closed by a resolution."""

    __tablename__ = "exceptions"
    __table_args__ = (Index("ix_exceptions_status_segment", "status", "segment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    validation_round: Mapped[int] = mapped_column(Integer)
    segment: Mapped[str | None] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)


class Audit(Base):
    """Append-only record of every change: who, when, what, before and after."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)


class Outbox(Base):
    """A status notification for integration; ``id`` is the feed cursor (``?since=``)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    customer_id: Mapped[str] = mapped_column(ID, index=True)
    segment: Mapped[str | None] = mapped_column(ID)
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class ApiKey(Base):
    """An API key: ``key_id`` is the public prefix, ``key_hash`` the sha256 of the whole token."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    customers: Mapped[list[str] | None] = mapped_column(JSON)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TradingPartnerRow(Base):
    """An EDI trading partner: its interchange sender id, customer and code lists (migration 0004).

    The sender (standard, qualifier, id) is unique: it is how an interchange finds its partner.
    """

    __tablename__ = "trading_partners"
    __table_args__ = (UniqueConstraint("standard", "sender_qualifier", "sender_id"),)

    partner_id: Mapped[str] = mapped_column(ID, primary_key=True)
    standard: Mapped[str] = mapped_column(String(16))
    sender_qualifier: Mapped[str] = mapped_column(String(4))
    sender_id: Mapped[str] = mapped_column(String(35))
    customer_id: Mapped[str] = mapped_column(ID)
    channel: Mapped[str] = mapped_column(String(16))
    part_numbers: Mapped[dict[str, str]] = mapped_column(JSON)
    units: Mapped[dict[str, float]] = mapped_column(JSON)
    order_ack: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EdiMessageRow(Base):
    """An EDI document received (``in``) or written for the partner (``out``: 997, TA1, 855,
    CONTRL, ORDRSP); ``id`` is the feed cursor and the outbound interchange control number."""

    __tablename__ = "edi_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    direction: Mapped[str] = mapped_column(String(3))
    standard: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[str | None] = mapped_column(ID, index=True)
    customer_id: Mapped[str | None] = mapped_column(ID, index=True)
    interchange_control: Mapped[str] = mapped_column(String(35))
    status: Mapped[str] = mapped_column(String(32))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text)
