"""Sign-in with a wallet (EIP-4361) for the data room: a nonce, the signed message, the session
(an HttpOnly SameSite=Strict cookie), sign-out. docs/API.md "Data room"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ...dataroom import sessions as ses
from ...dataroom.room import COOKIE, CSRF_HEADER, DataRoom
from ...query import queries
from ...query import validate as v
from ...query.errors import BadInput
from .. import schemas as s
from ..deps import Svc

router = APIRouter(tags=["sign-in"])

# 408/413 come from the body limits (api/limits.py) on any request body.
AUTH_ERRORS = s.error_responses(400, 401, 408, 413, 422, 503)
SESSION_ERRORS = s.error_responses(401, 403, 503)
SIGNOUT_ERRORS = s.error_responses(401, 403, 408, 413, 503)


class NonceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str | None = Field(None, description="the wallet's address: the answer then holds the message to sign")


class NonceAnswer(BaseModel):
    nonce: str
    domain: str
    uri: str
    chain_id: int
    version: str
    statement: str
    issued_at: str
    expiration_time: str
    message: str | None = Field(None, description="the EIP-4361 text to sign (when an address was given)")


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(max_length=4096, description="the EIP-4361 message, exactly as signed")
    signature: str = Field(max_length=8194, description="0x + the signature's hex (65 bytes, or a contract wallet's)")


class SessionAnswer(BaseModel):
    address: s.Address
    roles: list[str] = Field(description="roles held now, from the index (publisher, auditor, researcher)")
    name: str | None = Field(None, description="the organisation's verified public name, if any")
    expires_at: int
    csrf_token: str = Field(description="send it as the X-CSRF-Token header on state-changing data-room routes")


def room_of(request: Request) -> DataRoom:
    room: DataRoom = request.app.state.dataroom
    return room


def current_session(request: Request, svc: Svc) -> ses.Session:
    """The request's live session (cookie), or 401 not_signed_in."""
    with svc.engine.connect() as conn:
        return ses.session_of(conn, request.cookies.get(COOKIE))


def csrf_session(request: Request, svc: Svc) -> ses.Session:
    """The live session of a state-changing request: the cookie AND the session's CSRF token header."""
    session = current_session(request, svc)
    ses.check_csrf(session, request.headers.get(CSRF_HEADER))
    return session


def session_answer(svc: Svc, session: ses.Session) -> dict[str, Any]:
    with svc.engine.connect() as conn:
        roles, name = queries.account_roles(conn, session.address)
    return {
        "address": session.address,
        "roles": roles,
        "name": name,
        "expires_at": session.expires_at,
        "csrf_token": session.csrf_token,
    }


@router.post("/api/auth/nonce", response_model=NonceAnswer, responses=AUTH_ERRORS)
def nonce(request: Request, svc: Svc, body: Annotated[NonceRequest | None, Body()] = None) -> dict[str, Any]:
    """A one-time nonce and the fields of the EIP-4361 message to sign (valid `nonce_ttl` seconds)."""
    room = room_of(request)
    address = v.address(body.address, "address") if body and body.address else None
    with svc.engine.begin() as conn:
        fields = ses.issue_nonce(conn, room.siwe)
    fields["message"] = ses.message_text(fields, address) if address else None
    return fields


@router.post("/api/auth/signin", response_model=SessionAnswer, responses=AUTH_ERRORS)
def signin(request: Request, response: Response, svc: Svc, body: Annotated[SignIn, Body()]) -> dict[str, Any]:
    """Check the signed message (domain, URI, chain, times, signature or ERC-1271, nonce) and open a
    session: the cookie `cityledger_session` (HttpOnly, SameSite=Strict, Secure on https)."""
    if "application/json" not in request.headers.get("content-type", ""):
        raise BadInput("sign-in takes a JSON body (Content-Type: application/json)")
    room = room_of(request)
    session_id, session = ses.sign_in(
        svc.engine, room.siwe, body.message, body.signature, ses.erc1271_checker(svc.chain.w3())
    )
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=room.siwe.session_ttl,
        path="/api",
        secure=room.siwe.secure,
        httponly=True,
        samesite="strict",
    )
    return session_answer(svc, session)


@router.get("/api/auth/session", response_model=SessionAnswer, responses=SESSION_ERRORS)
async def session(request: Request, svc: Svc) -> dict[str, Any]:
    """The signed-in account, its roles (from the index) and the session's CSRF token."""
    return await run_in_threadpool(lambda: session_answer(svc, current_session(request, svc)))


@router.post("/api/auth/signout", status_code=204, response_class=Response, responses=SIGNOUT_ERRORS)
def signout(request: Request, svc: Svc) -> Response:
    """End the session (needs the X-CSRF-Token header) and clear the cookie."""
    session = csrf_session(request, svc)
    with svc.engine.begin() as conn:
        ses.sign_out(conn, session)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/api", secure=room_of(request).siwe.secure, httponly=True, samesite="strict")
    return response
