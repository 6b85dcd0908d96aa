"""A document a transaction names by hash (a dataset's metadata, an organisation's profile) is removed
again only when the transaction cannot land (chain.tx.transact_or_undo): a Ctrl-C after the send left
a registration on chain whose document had been deleted, and a re-run only said "already
registered", so the dataset could never be described."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from cityledger.chain.actions import set_profile
from cityledger.chain.deployments import contract
from cityledger.datasets.metadata import DatasetInfo
from cityledger.datasets.profiles import profile_document
from cityledger.datasets.registry import publish
from cityledger.datasets.store import MetadataStore
from cityledger.errors import CityLedgerError


def _info(devnet, who: int) -> DatasetInfo:
    return DatasetInfo(
        title=f"Bus stops {uuid.uuid4().hex[:8]}",
        domain="transport",
        publisher=devnet.accounts[who].address,
        description="Stops and shelters",
        license="CC-BY-4.0",
    )


def _csv(tmp_path):
    path = tmp_path / "stops.csv"
    path.write_text(f"stop,shelter\n{uuid.uuid4().hex},yes\n")
    return path


def _interrupted(*args, **kwargs):
    raise KeyboardInterrupt  # the user pressed Ctrl-C while the receipt was awaited


def _mined(devnet) -> None:
    """The interrupted transaction was sent; anvil's automine may not have sealed it yet: a block now."""
    devnet.w3.provider.make_request("evm_mine", [])


def _documents(store_dir) -> list[str]:
    return sorted(p.name for p in store_dir.glob("*.json")) if store_dir.exists() else []


def test_a_publish_interrupted_after_sending_keeps_its_document_and_a_rerun_finds_both(devnet, tmp_path, monkeypatch):
    store_dir = tmp_path / "metadata"
    path, info = _csv(tmp_path), _info(devnet, 1)

    with monkeypatch.context() as m:
        m.setattr(devnet.w3.eth, "wait_for_transaction_receipt", _interrupted)
        with pytest.raises(KeyboardInterrupt):
            publish(devnet.w3, devnet.deployment, devnet.accounts[1], path, info, store=MetadataStore(store_dir))
    [kept] = _documents(store_dir)
    _mined(devnet)
    registry = contract(devnet.w3, devnet.deployment, "DatasetRegistry")
    [logged] = registry.events.DatasetRegistered().get_logs(
        from_block=0, argument_filters={"content_hash": hashlib.sha256(path.read_bytes()).digest()}
    )
    assert kept == bytes(logged["args"]["metadata_hash"]).hex() + ".json"  # the registration landed

    again = publish(devnet.w3, devnet.deployment, devnet.accounts[1], path, info, store=MetadataStore(store_dir))
    assert again.already_registered and again.dataset_id == logged["args"]["dataset_id"]
    assert _documents(store_dir) == [kept]


def test_a_refused_registration_leaves_no_document(devnet, tmp_path):
    store_dir = tmp_path / "metadata"
    citizen = devnet.accounts[9]  # holds no publisher role: the node refuses the registration
    with pytest.raises(CityLedgerError, match="publisher"):
        publish(devnet.w3, devnet.deployment, citizen, _csv(tmp_path), _info(devnet, 9), store=MetadataStore(store_dir))
    assert _documents(store_dir) == []


def test_a_profile_interrupted_after_sending_keeps_its_document_and_a_refused_one_none(devnet, tmp_path, monkeypatch):
    store_dir = tmp_path / "metadata"
    agency = devnet.accounts[1].address
    doc = profile_document(name=f"Transit office {uuid.uuid4().hex[:6]}", kind="agency")
    with pytest.raises(CityLedgerError, match="owner|admin"):  # not the admin: refused before the send
        set_profile(devnet.w3, devnet.deployment, devnet.accounts[2], agency, doc, MetadataStore(store_dir))
    assert _documents(store_dir) == []

    with monkeypatch.context() as m:
        m.setattr(devnet.w3.eth, "wait_for_transaction_receipt", _interrupted)
        with pytest.raises(KeyboardInterrupt):
            set_profile(devnet.w3, devnet.deployment, devnet.accounts[0], agency, doc, MetadataStore(store_dir))
    [kept] = _documents(store_dir)
    _mined(devnet)
    roles = contract(devnet.w3, devnet.deployment, "CityRoles")
    assert kept == roles.functions.profile_of(agency).call().hex() + ".json"  # on chain, and its document here
