"""A data room's client side: signing in with a local key (EIP-4361, as a wallet's personal_sign),
for the CLI and the demo, which talk to a running API over HTTP."""

from __future__ import annotations

from typing import Any

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from ..errors import CityLedgerError
from .room import CSRF_HEADER


def error_of(answer: Any, what: str) -> str:
    """One line for a refused HTTP answer: the API's error message, else the status."""
    try:
        return f"{what}: {answer.json()['error']['message']}"
    except (ValueError, KeyError, TypeError):
        return f"{what}: HTTP {answer.status_code}"


def sign_in(api: Any, account: LocalAccount) -> dict[str, Any]:
    """Sign `account` in on `api` (an httpx.Client on the data room: its cookie jar keeps the session,
    its headers the CSRF token from now on); returns the session answer."""
    asked = api.post("/api/auth/nonce", json={"address": account.address})
    if asked.status_code != 200:
        raise CityLedgerError(error_of(asked, "sign-in"))
    message = asked.json()["message"]
    signature = "0x" + bytes(account.sign_message(encode_defunct(text=message)).signature).hex().removeprefix("0x")
    answer = api.post("/api/auth/signin", json={"message": message, "signature": signature})
    if answer.status_code != 200:
        raise CityLedgerError(error_of(answer, "sign-in"))
    session = answer.json()
    api.headers[CSRF_HEADER] = session["csrf_token"]
    return session
