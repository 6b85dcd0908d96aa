"""What the data room's routes share (kept on `app.state.dataroom`): the sign-in settings, the file
store, and the release operator's account (loaded on first use: a read-only API needs no key)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from ..config import Config, Network
from ..errors import CityLedgerError
from ..query.errors import Unavailable
from .files import LocalFileStore, S3FileStore, open_store
from .sessions import SiweSettings

COOKIE = "cityledger_session"
CSRF_HEADER = "X-CSRF-Token"
OPERATOR_ACCOUNT = 5  # devnet: the account the demo names the business publisher's release operator


def operator_account(network: Network) -> LocalAccount:
    """The data room's release-operator key: an eth-account keystore (CITYLEDGER_OPERATOR_KEYSTORE +
    CITYLEDGER_OPERATOR_KEYSTORE_PASSWORD), or CITYLEDGER_OPERATOR_KEY on a devnet, or on a devnet
    without either the mnemonic's account 5. Never a publisher's own key: a publisher names this
    address with `cityledger release-operator add` and can stop it at any time."""
    from eth_account import Account

    keystore = os.environ.get("CITYLEDGER_OPERATOR_KEYSTORE")
    if keystore:
        password = os.environ.get("CITYLEDGER_OPERATOR_KEYSTORE_PASSWORD")
        if password is None:
            raise Unavailable("CITYLEDGER_OPERATOR_KEYSTORE is set but CITYLEDGER_OPERATOR_KEYSTORE_PASSWORD is not")
        try:
            key = Account.decrypt(Path(keystore).read_text(), password)
        except (OSError, ValueError) as exc:
            raise Unavailable(f"the operator keystore {keystore} cannot be opened: {exc}") from None
        return Account.from_key(key)
    if os.environ.get("CITYLEDGER_OPERATOR_KEY"):
        if not network.devnet:
            raise Unavailable(
                "CITYLEDGER_OPERATOR_KEY is for the devnet only; on "
                f"'{network.name}' use an encrypted keystore (CITYLEDGER_OPERATOR_KEYSTORE)"
            )
        return Account.from_key(os.environ["CITYLEDGER_OPERATOR_KEY"])
    if network.devnet:
        from ..chain.accounts import devnet_accounts

        return devnet_accounts(network)[OPERATOR_ACCOUNT]
    raise Unavailable(
        "no release-operator key: set CITYLEDGER_OPERATOR_KEYSTORE and CITYLEDGER_OPERATOR_KEYSTORE_PASSWORD "
        "(docs/DATAROOM.md)"
    )


@dataclass
class DataRoom:
    cfg: Config
    network: Network
    data_dir: Path

    def __post_init__(self) -> None:
        room = self.cfg.dataroom
        self.siwe = SiweSettings(
            public_url=self.cfg.public_url,
            chain_id=self.network.chain_id,
            nonce_ttl=room.nonce_ttl,
            session_ttl=room.session_ttl,
        )
        self.max_upload_bytes = room.max_upload_bytes
        self.link_ttl = room.link_ttl
        self._files: LocalFileStore | S3FileStore | None = None
        self._operator: LocalAccount | None = None
        self._lock = threading.Lock()

    @property
    def files(self) -> LocalFileStore | S3FileStore:
        with self._lock:
            if self._files is None:
                try:
                    self._files = open_store(self.data_dir, self.cfg.dataroom.file_store)
                except CityLedgerError as exc:
                    raise Unavailable(str(exc)) from None
            return self._files

    def operator(self) -> LocalAccount:
        with self._lock:
            if self._operator is None:
                self._operator = operator_account(self.network)
            return self._operator
