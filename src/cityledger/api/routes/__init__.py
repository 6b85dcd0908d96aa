"""The API's routers, one per area; create_app includes them in this order."""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    access,
    auth,
    consents,
    dataroom,
    datasets,
    documents,
    obligations,
    organisations,
    relay,
    rights,
    stats,
    status,
)

ROUTERS: tuple[APIRouter, ...] = (
    status.router,
    dataroom.router,  # before datasets: /api/datasets/{ref}/download and /file
    datasets.router,
    consents.router,
    access.router,
    obligations.router,
    rights.router,
    organisations.router,
    documents.router,
    stats.router,
    relay.router,
    auth.router,
)
