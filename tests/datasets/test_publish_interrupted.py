"""publish removes the metadata document it wrote only when the registration cannot land: a Ctrl-C
after the transaction was sent left a registration on chain whose document had been deleted, and a
re-run only said "already registered", so the dataset could never be described."""

from __future__ import annotations

import uuid

import pytest

from cityledger.chain.deployments import contract
from cityledger.datasets.metadata import DatasetInfo
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


def _documents(store_dir) -> list[str]:
    return sorted(p.name for p in store_dir.glob("*.json")) if store_dir.exists() else []


def test_a_publish_interrupted_after_sending_keeps_its_document_and_a_rerun_finds_both(devnet, tmp_path, monkeypatch):
    store_dir = tmp_path / "metadata"
    path, info = _csv(tmp_path), _info(devnet, 1)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # the user pressed Ctrl-C while the receipt was awaited

    with monkeypatch.context() as m:
        m.setattr(devnet.w3.eth, "wait_for_transaction_receipt", interrupted)
        with pytest.raises(KeyboardInterrupt):
            publish(devnet.w3, devnet.deployment, devnet.accounts[1], path, info, store=MetadataStore(store_dir))
    [kept] = _documents(store_dir)
    registry = contract(devnet.w3, devnet.deployment, "DatasetRegistry")
    [logged] = registry.events.DatasetRegistered().get_logs(
        from_block=devnet.w3.eth.block_number, argument_filters={"publisher": devnet.accounts[1].address}
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
