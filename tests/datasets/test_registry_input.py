"""datasets.registry refuses a dataset id the contracts cannot be asked about, before encoding it."""

import pytest

from cityledger.datasets.registry import attest, dataset_id_arg, dataset_record, dataset_rows, withdraw
from cityledger.datasets.store import MetadataStore
from cityledger.errors import CityLedgerError


@pytest.mark.parametrize("bad", [-5, 0, 2**256, True, 1.0, "1"])
def test_bad_dataset_ids_are_one_clear_error(devnet, tmp_path, bad):
    """`dataset_rows(..., -5)` (verify-row --dataset -5 under the CLI) raised eth_abi's ValueOutOfBounds."""
    report = tmp_path / "r.txt"
    report.write_text("ok")
    agency = devnet.accounts[1]
    nonce = devnet.w3.eth.get_transaction_count(agency.address)
    calls = [
        lambda: dataset_rows(devnet.w3, devnet.deployment, bad, MetadataStore(tmp_path)),
        lambda: dataset_record(devnet.w3, devnet.deployment, bad),
        lambda: withdraw(devnet.w3, devnet.deployment, agency, bad, "reason"),
        lambda: attest(devnet.w3, devnet.deployment, devnet.accounts[3], bad, "quality", report),
    ]
    for call in calls:
        with pytest.raises(CityLedgerError, match="expected a whole number from 1"):
            call()
    assert devnet.w3.eth.get_transaction_count(agency.address) == nonce  # nothing was sent
    assert dataset_id_arg(1) == 1 and dataset_id_arg(2**256 - 1) == 2**256 - 1
