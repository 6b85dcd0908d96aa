"""Typed dependencies of the routes: the shared services and a store connection per request.

Both are `async def`: FastAPI runs a plain `def` dependency in the thread pool, and a thread hop
per request costs more than a point query (see routes/common.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Connection

from .state import Services


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_conn(request: Request) -> AsyncIterator[Connection]:
    services: Services = request.app.state.services
    with services.engine.connect() as conn:
        yield conn


Svc = Annotated[Services, Depends(get_services)]
Conn = Annotated[Connection, Depends(get_conn)]
