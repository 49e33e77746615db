"""Random public ids: a readable prefix and lowercase hex."""

from __future__ import annotations

import secrets


def new_project_id() -> str:
    return "proj_" + secrets.token_hex(6)


def new_user_id() -> str:
    return "user_" + secrets.token_hex(6)


def new_export_id() -> str:
    return "exp_" + secrets.token_hex(8)


def new_webhook_id() -> str:
    return "wh_" + secrets.token_hex(8)


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)
