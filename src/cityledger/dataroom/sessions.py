"""Sign-in with a wallet (EIP-4361, Sign-In with Ethereum) and the sessions it opens.

The server issues a nonce (stored, so every API worker knows it), the wallet signs the EIP-4361
message, the server checks it against its own configuration (domain and URI from the public URL,
never from the request; the configured chain id), the times, the signature (ecrecover, or ERC-1271
for a contract wallet, through the node with a gas bound) and, last, consumes the nonce in the same
transaction that creates the session: a replayed message finds no nonce and signs nobody in.

A session is an opaque random id in an HttpOnly, SameSite=Strict cookie; the store keeps its SHA-256
and a per-session CSRF token. Roles are never part of a session: they are read from the index on
each request.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct
from siwe import SiweMessage
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection, Engine

from ..query.errors import BadInput, CodedError, Unavailable
from .models import SignInNonce, SignInSession

NONCES, SESSIONS = SignInNonce.__table__, SignInSession.__table__
STATEMENT = "Sign in to the CityLedger data room."
CLOCK_SKEW = 60  # seconds a wallet's clock may be ahead of ours
MAX_OPEN_NONCES = 100_000  # unused, unexpired nonces kept at once (each is one small row)
ERC1271_GAS = 100_000  # a contract wallet's isValidSignature gets at most this much gas
ERC1271_MAGIC = bytes.fromhex("1626ba7e")
_NONCE_ALPHABET = string.ascii_letters + string.digits


class SignInRefused(CodedError):
    """A sign-in refused before anything is stored; the code says why (siwe_*)."""


class NotSignedIn(CodedError):
    code = "not_signed_in"


@dataclass(frozen=True)
class SiweSettings:
    public_url: str  # http(s)://host[:port], no trailing slash
    chain_id: int
    nonce_ttl: int
    session_ttl: int

    @property
    def domain(self) -> str:
        return urlsplit(self.public_url).netloc

    @property
    def scheme(self) -> str:
        return urlsplit(self.public_url).scheme

    @property
    def secure(self) -> bool:
        return self.scheme == "https"


@dataclass(frozen=True)
class Session:
    id_hash: str
    address: str  # lowercase
    csrf_token: str
    expires_at: int


def _hash(secret: str) -> str:
    return "0x" + hashlib.sha256(secret.encode()).hexdigest()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue_nonce(conn: Connection, cfg: SiweSettings, now: float | None = None) -> dict:
    """A fresh nonce and the fields of the message to sign (stored until used or expired)."""
    now = time.time() if now is None else now
    conn.execute(delete(NONCES).where(NONCES.c.expires_at <= int(now)))
    if conn.execute(select(func.count()).select_from(NONCES)).scalar_one() >= MAX_OPEN_NONCES:
        raise Unavailable("too many sign-ins are under way; retry in a few minutes")
    nonce = "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(22))  # ~131 bits, EIP-4361 alphanumeric
    expires = int(now) + cfg.nonce_ttl
    conn.execute(insert(NONCES).values(nonce=nonce, issued_at=int(now), expires_at=expires))
    return {
        "nonce": nonce,
        "domain": cfg.domain,
        "uri": cfg.public_url,
        "chain_id": cfg.chain_id,
        "version": "1",
        "statement": STATEMENT,
        "issued_at": _iso(now),
        "expiration_time": _iso(expires),
    }


def message_text(fields: dict, address: str) -> str:
    """The EIP-4361 text for an address (EIP-55) from issue_nonce's fields."""
    from web3 import Web3

    return SiweMessage(
        domain=fields["domain"],
        address=Web3.to_checksum_address(address),
        statement=fields["statement"],
        uri=fields["uri"],
        version="1",
        chain_id=fields["chain_id"],
        nonce=fields["nonce"],
        issued_at=fields["issued_at"],
        expiration_time=fields["expiration_time"],
    ).prepare_message()


def _parse(message: str) -> SiweMessage:
    if not isinstance(message, str) or len(message) > 4096:
        raise BadInput("the sign-in message must be an EIP-4361 text of at most 4096 characters")
    try:
        return SiweMessage.from_message(message)
    except Exception as exc:  # the parser raises plain ValueErrors and pydantic errors
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise BadInput(f"not an EIP-4361 sign-in message: {why}") from None


def _when(value: object) -> float:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def check_message(msg: SiweMessage, cfg: SiweSettings, now: float) -> None:
    """Everything but the signature and the nonce: domain, URI, chain and times."""
    if msg.domain != cfg.domain or (msg.scheme is not None and msg.scheme != cfg.scheme):
        raise SignInRefused(
            f"the message is for {msg.domain!r}, this data room is {cfg.domain!r}: sign in on its own page",
            code="siwe_domain",
        )
    uri = str(msg.uri)
    if uri.rstrip("/") != cfg.public_url and not uri.startswith(cfg.public_url + "/"):
        raise SignInRefused(f"the message's URI {uri[:100]!r} is not under {cfg.public_url}", code="siwe_uri")
    if int(msg.chain_id) != cfg.chain_id:
        raise SignInRefused(
            f"the message is for chain {msg.chain_id}; this data room is on chain {cfg.chain_id}", code="siwe_chain"
        )
    issued = _when(msg.issued_at)
    if issued > now + CLOCK_SKEW:
        raise SignInRefused("the message's Issued At is in the future (check the wallet's clock)", code="siwe_expired")
    if now - issued > cfg.nonce_ttl:
        raise SignInRefused(
            f"the message was issued more than {cfg.nonce_ttl} s ago: ask for a new nonce", code="siwe_expired"
        )
    if msg.expiration_time is not None and now >= _when(msg.expiration_time):
        raise SignInRefused("the message's Expiration Time has passed: sign in again", code="siwe_expired")
    if msg.not_before is not None and now < _when(msg.not_before):
        raise SignInRefused("the message's Not Before has not come yet", code="siwe_expired")


Erc1271 = Callable[[str, bytes, bytes], bool]  # (address, hash, signature) -> valid?


def check_signature(msg: SiweMessage, message: str, signature: str, erc1271: Erc1271 | None) -> None:
    """The signer is the message's address (EIP-191 personal_sign), or the address is a contract
    wallet whose ERC-1271 isValidSignature accepts the signature for the message's hash."""
    try:
        sig = bytes.fromhex(signature.removeprefix("0x"))
    except (ValueError, AttributeError):
        raise SignInRefused("the signature is not hex", code="siwe_signature") from None
    if not sig or len(sig) > 4096:
        raise SignInRefused("the signature is empty or too long", code="siwe_signature")
    signable = encode_defunct(text=message)
    try:
        signer = Account.recover_message(signable, signature=sig) if len(sig) == 65 else None
    except Exception:  # a malformed or high-s signature: not this address's, by ecrecover
        signer = None
    if signer == msg.address:
        return
    if erc1271 is not None and erc1271(msg.address, _hash_eip191_message(signable), sig):
        return
    raise SignInRefused(f"the signature is not {msg.address}'s for this message", code="siwe_signature")


def erc1271_checker(w3, timeout_note: str = "") -> Erc1271:
    """ERC-1271 through the node: only for an address with code, one eth_call with a gas bound (the
    node's own timeout bounds the time)."""
    from eth_abi import decode, encode

    selector = bytes.fromhex("1626ba7e")  # isValidSignature(bytes32,bytes)

    def check(address: str, digest: bytes, signature: bytes) -> bool:
        try:
            if not w3.eth.get_code(address):
                return False
            data = selector + encode(["bytes32", "bytes"], [digest, signature])
            out = w3.eth.call({"to": address, "data": "0x" + data.hex(), "gas": ERC1271_GAS})
            return len(out) >= 32 and decode(["bytes4"], bytes(out)[:32])[0] == ERC1271_MAGIC
        except Exception as exc:  # a revert, out of gas, or the node: not a valid signature
            if "revert" in str(exc).lower() or "gas" in str(exc).lower():
                return False
            raise Unavailable(f"the node does not answer the contract wallet's check{timeout_note}: retry") from None

    return check


def sign_in(
    engine: Engine, cfg: SiweSettings, message: str, signature: str, erc1271: Erc1271 | None, now: float | None = None
) -> tuple[str, Session]:
    """Check a signed EIP-4361 message; on success consume its nonce and open a session. Returns
    (the cookie's session id, the session). SignInRefused / BadInput otherwise (nothing stored)."""
    now = time.time() if now is None else now
    msg = _parse(message)
    check_message(msg, cfg, now)
    check_signature(msg, message, signature, erc1271)
    session_id = secrets.token_urlsafe(32)
    session = Session(
        id_hash=_hash(session_id),
        address=msg.address.lower(),
        csrf_token=secrets.token_urlsafe(32),
        expires_at=int(now) + cfg.session_ttl,
    )
    with engine.begin() as conn:
        # The nonce is consumed by the same transaction that opens the session: of two requests with
        # one message, exactly one deletes the row.
        used = conn.execute(delete(NONCES).where(NONCES.c.nonce == msg.nonce, NONCES.c.expires_at > int(now))).rowcount
        if used != 1:
            raise SignInRefused(
                "the message's nonce was not issued by this data room, has expired or was already used: "
                "ask for a new nonce",
                code="siwe_nonce",
            )
        conn.execute(delete(SESSIONS).where(SESSIONS.c.expires_at <= int(now)))
        conn.execute(
            insert(SESSIONS).values(
                id_hash=session.id_hash,
                address=session.address,
                csrf_token=session.csrf_token,
                created_at=int(now),
                expires_at=session.expires_at,
            )
        )
    return session_id, session


def session_of(conn: Connection, session_id: str | None, now: float | None = None) -> Session:
    """The live session of a cookie's id; NotSignedIn without one."""
    if not session_id or len(session_id) > 100:
        raise NotSignedIn("sign in first (POST /api/auth/nonce, then POST /api/auth/signin)")
    now = time.time() if now is None else now
    row = conn.execute(select(SESSIONS).where(SESSIONS.c.id_hash == _hash(session_id))).mappings().first()
    if row is None or row["expires_at"] <= now:
        raise NotSignedIn("the session has expired or was signed out: sign in again")
    return Session(row["id_hash"], row["address"], row["csrf_token"], row["expires_at"])


def check_csrf(session: Session, token: str | None) -> None:
    if not token or not secrets.compare_digest(token, session.csrf_token):
        raise CodedError(
            "this request needs the header X-CSRF-Token with the session's csrf_token (GET /api/auth/session)",
            code="csrf",
        )


def sign_out(conn: Connection, session: Session) -> None:
    conn.execute(delete(SESSIONS).where(SESSIONS.c.id_hash == session.id_hash))
