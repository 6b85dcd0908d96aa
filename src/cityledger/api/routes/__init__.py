"""The API's routers, one per area; create_app includes them in this order."""

from __future__ import annotations

from fastapi import APIRouter

from . import access, consents, datasets, relay, rights, stats, status

ROUTERS: tuple[APIRouter, ...] = (
    status.router,
    datasets.router,
    consents.router,
    access.router,
    rights.router,
    stats.router,
    relay.router,
)
