"""Devnet accounts from the mnemonic; the deployer key of other networks (keystore or env)."""

import json

import pytest
from eth_account import Account

from cityledger.chain.accounts import deployer_account, devnet_accounts, sender_account
from cityledger.config import Network
from cityledger.errors import CityLedgerError

DEVNET = Network(
    "devnet", "http://127.0.0.1:1", 31337, True, "test test test test test test test test test test test junk"
)
TESTNET = Network("testnet", "http://127.0.0.1:1", 5, False)
KEY = "0x" + "11" * 32


def test_devnet_accounts_are_anvils(clean_env):
    accounts = devnet_accounts(DEVNET)
    assert len(accounts) == 10
    # anvil's documented first two accounts for this mnemonic
    assert accounts[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert accounts[1].address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert deployer_account(DEVNET).address == accounts[0].address


def test_non_devnet_has_no_mnemonic_accounts():
    with pytest.raises(CityLedgerError, match="not a devnet"):
        devnet_accounts(TESTNET)


@pytest.fixture
def clean_env(monkeypatch):
    for var in ("CITYLEDGER_KEYSTORE", "CITYLEDGER_KEYSTORE_PASSWORD", "CITYLEDGER_PRIVATE_KEY"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def write_keystore(path, password="right"):
    path.write_text(json.dumps(Account.encrypt(KEY, password, kdf="pbkdf2", iterations=1000)))
    return path


def test_key_from_env(clean_env):
    clean_env.setenv("CITYLEDGER_PRIVATE_KEY", KEY)
    assert deployer_account(TESTNET).address == Account.from_key(KEY).address
    clean_env.setenv("CITYLEDGER_PRIVATE_KEY", "0x1234")
    with pytest.raises(CityLedgerError, match="not a valid private key"):
        deployer_account(TESTNET)


def test_no_key_configured(clean_env):
    with pytest.raises(CityLedgerError, match="needs a key"):
        deployer_account(TESTNET)


def test_keystore(clean_env, tmp_path):
    path = write_keystore(tmp_path / "key.json")
    clean_env.setenv("CITYLEDGER_KEYSTORE", str(path))
    clean_env.setenv("CITYLEDGER_KEYSTORE_PASSWORD", "right")
    assert deployer_account(TESTNET).address == Account.from_key(KEY).address
    clean_env.setenv("CITYLEDGER_KEYSTORE_PASSWORD", "wrong")
    with pytest.raises(CityLedgerError, match="wrong password"):
        deployer_account(TESTNET)
    # no password in the environment: asked for, or an error when there is no way to ask
    clean_env.delenv("CITYLEDGER_KEYSTORE_PASSWORD")
    assert deployer_account(TESTNET, prompt=lambda text: "right").address == Account.from_key(KEY).address
    with pytest.raises(CityLedgerError, match="CITYLEDGER_KEYSTORE_PASSWORD"):
        deployer_account(TESTNET)


def test_keystore_missing_or_garbage(clean_env, tmp_path):
    clean_env.setenv("CITYLEDGER_KEYSTORE", str(tmp_path / "absent.json"))
    with pytest.raises(CityLedgerError, match="not found"):
        deployer_account(TESTNET)
    (tmp_path / "bad.json").write_text("not json")
    clean_env.setenv("CITYLEDGER_KEYSTORE", str(tmp_path / "bad.json"))
    with pytest.raises(CityLedgerError, match="not a readable keystore"):
        deployer_account(TESTNET)


def test_a_key_the_user_sets_signs_on_the_devnet_too(clean_env):
    # Was: the devnet used its mnemonic accounts and ignored CITYLEDGER_PRIVATE_KEY without a word.
    clean_env.setenv("CITYLEDGER_PRIVATE_KEY", KEY)
    mine = Account.from_key(KEY).address
    assert deployer_account(DEVNET).address == mine
    assert sender_account(DEVNET, None, 1).address == mine
    with pytest.raises(CityLedgerError, match="--from-account 2 and CITYLEDGER_PRIVATE_KEY both choose the sender"):
        sender_account(DEVNET, 2, 1)
    clean_env.setenv("CITYLEDGER_PRIVATE_KEY", "0x1234")
    with pytest.raises(CityLedgerError, match="expected 64 hex digits .*got 4 characters") as info:
        sender_account(DEVNET, None, 1)
    assert "1234" not in str(info.value)  # a key is a secret, even a malformed one
    clean_env.setenv("CITYLEDGER_PRIVATE_KEY", "")  # empty: unset, the mnemonic account signs
    assert sender_account(DEVNET, None, 1).address == devnet_accounts(DEVNET)[1].address


def test_keystore_and_env_key_together_are_refused(clean_env, tmp_path):
    clean_env.setenv("CITYLEDGER_KEYSTORE", str(write_keystore(tmp_path / "key.json")))
    clean_env.setenv("CITYLEDGER_KEYSTORE_PASSWORD", "right")
    clean_env.setenv("CITYLEDGER_PRIVATE_KEY", "0x" + "33" * 32)
    for network in (DEVNET, TESTNET):
        with pytest.raises(CityLedgerError, match="both set"):
            deployer_account(network)


def test_from_account_range_and_other_networks(clean_env):
    with pytest.raises(CityLedgerError, match=r"--from-account 10: the devnet has accounts 0\.\.9"):
        sender_account(DEVNET, 10, 1)
    with pytest.raises(CityLedgerError, match="--from-account is for devnets"):
        sender_account(TESTNET, 1, 1)
