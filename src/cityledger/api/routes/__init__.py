"""The API's routers, one per area; create_app includes them in this order."""

from __future__ import annotations

from fastapi import APIRouter

from . import access, consents, datasets, documents, obligations, organisations, relay, rights, stats, status

ROUTERS: tuple[APIRouter, ...] = (
    status.router,
    datasets.router,
    consents.router,
    access.router,
    obligations.router,
    rights.router,
    organisations.router,
    documents.router,
    stats.router,
    relay.router,
)
