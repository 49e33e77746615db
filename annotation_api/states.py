"""The lifecycle states of exports and callback deliveries, as stored and reported.

This module is vocabulary only (no dependencies), so that every layer may name
a state: storage stores and filters by these values, the server decides which
state follows which (`server/exports/lifecycle.py`), and the transport maps
them to the proto enums by their lowercase names.
"""

from __future__ import annotations

from enum import StrEnum


class ExportStatus(StrEnum):
    """Where an export is in its life."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"


class CallbackStatus(StrEnum):
    """Where the delivery of an export's callback is."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
