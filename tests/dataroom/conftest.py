"""The data room's fixtures: an API over a devnet (shared by the module) and a store of its own,
and signing in with a devnet key (EIP-4361, as a wallet's personal_sign)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient

from cityledger.api.app import create_app
from cityledger.dataroom.room import CSRF_HEADER
from cityledger.indexer.store import migrate


def sign_message(account, message: str) -> str:
    return "0x" + account.sign_message(encode_defunct(text=message)).signature.hex().removeprefix("0x")


def sign_in(client: TestClient, account) -> dict:
    """Sign `account` in on `client` (its cookie jar keeps the session); returns the session answer."""
    fields = client.post("/api/auth/nonce", json={"address": account.address}).json()
    answer = client.post(
        "/api/auth/signin", json={"message": fields["message"], "signature": sign_message(account, fields["message"])}
    )
    assert answer.status_code == 200, answer.text
    client.headers[CSRF_HEADER] = answer.json()["csrf_token"]
    return answer.json()


@dataclasses.dataclass
class Room:
    chain: object
    cfg: object
    db_url: str

    def index(self) -> None:
        """Bring the store up to the chain (the real indexer, 2 confirmations: mine 2 blocks first
        when the last transactions must be final)."""
        from cityledger.indexer.sync import Indexer

        ix = Indexer.from_deployment(self.db_url, self.chain.rpc_url, self.chain.deployment, confirmations=2)
        try:
            ix.catch_up()
        finally:
            ix.close()

    def mine(self, blocks: int = 3) -> None:
        self.chain.w3.provider.make_request("anvil_mine", [blocks])

    def client(self) -> TestClient:
        app = create_app(self.cfg, db_url=self.db_url, network="devnet", data_dir=self.cfg.data_dir)
        return TestClient(app)


@pytest.fixture(scope="module")
def room(devnet_session, tmp_path_factory) -> Iterator[Room]:
    """An API over the session's devnet with a store and a data folder of this module's own."""
    folder = tmp_path_factory.mktemp("room")
    chain = devnet_session
    cfg = dataclasses.replace(
        chain.cfg,
        data_dir=folder / "data",
        networks={
            "devnet": {
                "rpc_url": chain.rpc_url,
                "chain_id": chain.network.chain_id,
                "devnet": True,
                "mnemonic": chain.network.mnemonic,
                "accounts": 10,
            }
        },
    )
    url = f"sqlite:///{folder / 'index.db'}"
    migrate(url)
    room = Room(chain, cfg, url)
    room.index()
    yield room
