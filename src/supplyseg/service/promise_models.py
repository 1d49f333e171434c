"""Database tables of order promising (created by migration 0003): supply, the allocation plan
of each policy version, and the promise (reservation) of each order line.

``supply`` is live data (``POST /supply`` and ``supplyseg publish`` change it); the allocation
tables belong to a policy version, like its rules, so a promise is traceable to the plan it used.
A ``promises`` row with status ``open`` reserves its ``confirmed_quantity`` of the product on
``promised_date``; ``released`` rows reserve nothing (kept for the record).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from supplyseg.service.models import ID, Base

__all__ = ["AllocationProduct", "AllocationShare", "PromiseRow", "SupplyRow"]


class SupplyRow(Base):
    """Supply of a product at a location: stock on hand as of a date, or a receipt due then."""

    __tablename__ = "supply"

    product_id: Mapped[str] = mapped_column(ID, primary_key=True)
    location_id: Mapped[str] = mapped_column(ID, primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    quantity: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AllocationShare(Base):
    """Priority, protected share and backorder strategy of a customer segment for the products
    of a product segment, in one policy version."""

    __tablename__ = "allocation_shares"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("policy_versions.version_id"), primary_key=True
    )
    product_segment: Mapped[str] = mapped_column(ID, primary_key=True)
    customer_segment: Mapped[str] = mapped_column(ID, primary_key=True)
    priority: Mapped[int] = mapped_column(Integer)
    share: Mapped[float] = mapped_column(Float)
    strategy: Mapped[str] = mapped_column(String(16))


class AllocationProduct(Base):
    """The product segment of a product in one policy version."""

    __tablename__ = "allocation_products"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("policy_versions.version_id"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(ID, primary_key=True)
    product_segment: Mapped[str] = mapped_column(ID)


class AllocationProtection(Base):
    """Quantity of a product's supply protected for a customer segment with a fill target, in
        one policy version, for the demand of ``horizon_start`` up to ``horizon_end``
    (`supplyseg.allocation.protection`)."""

    __tablename__ = "allocation_protection"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("policy_versions.version_id"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(ID, primary_key=True)
    customer_segment: Mapped[str] = mapped_column(ID, primary_key=True)
    protected_quantity: Mapped[float] = mapped_column(Float)
    horizon_start: Mapped[date] = mapped_column(Date)
    horizon_end: Mapped[date] = mapped_column(Date)


class PromiseRow(Base):
    """What was promised for one order line; ``open`` rows are reservations."""

    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_product_status", "product_id", "status"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    product_id: Mapped[str] = mapped_column(ID)
    customer_segment: Mapped[str | None] = mapped_column(ID)
    allocation_segment: Mapped[str | None] = mapped_column(ID)
    # Where the confirmed quantity comes from (migration 0006); null = any location.
    location_id: Mapped[str | None] = mapped_column(ID)
    requested_date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[float] = mapped_column(Float)
    confirmed_quantity: Mapped[float] = mapped_column(Float)
    promised_date: Mapped[date | None] = mapped_column(Date)
    backorder_quantity: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
