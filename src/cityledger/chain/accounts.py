"""Accounts: the devnet's deterministic accounts (from the test mnemonic) and the deployer key.

Devnet roles by index: 0 admin/deployer (city data office), 1 agency publisher, 2 business
publisher, 3 auditor, 4 researcher, 5 relayer, 6-9 citizens. A key comes from an eth-account
keystore (CITYLEDGER_KEYSTORE + CITYLEDGER_KEYSTORE_PASSWORD or a prompt) or from
CITYLEDGER_PRIVATE_KEY, never from a file in the repository; when one is set it signs on every
network, the devnet included (instead of the mnemonic accounts)."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ..config import Network, config
from ..errors import CityLedgerError
from .devnet import DEFAULT_MNEMONIC

DEVNET_ROLES = [
    "admin / deployer (city data office)",
    "publisher, agency (P-end)",
    "publisher, business (B-end)",
    "auditor",
    "researcher (R-end)",
    "relayer",
    "citizen",
    "citizen",
    "citizen",
    "citizen",
]
ADMIN, AGENCY, BUSINESS, AUDITOR, RESEARCHER, RELAYER = range(6)
CITIZENS = range(6, 10)


def _network(network: Network | str | None) -> Network:
    return network if isinstance(network, Network) else config().network(network)


@lru_cache(maxsize=8)
def _from_mnemonic(mnemonic: str, count: int) -> tuple[LocalAccount, ...]:
    Account.enable_unaudited_hdwallet_features()
    return tuple(Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count))


def devnet_accounts(network: Network | str | None = None) -> list[LocalAccount]:
    """The devnet's accounts, derived as anvil derives them (BIP-44 m/44'/60'/0'/0/i)."""
    net = _network(network)
    if not net.devnet:
        raise CityLedgerError(f"network '{net.name}' is not a devnet: it has no mnemonic accounts")
    return list(_from_mnemonic(net.mnemonic or DEFAULT_MNEMONIC, max(net.accounts, 10)))


def role_of_index(i: int) -> str:
    return DEVNET_ROLES[i] if i < len(DEVNET_ROLES) else "citizen"


def configured_key(prompt=None) -> LocalAccount | None:
    """The key the user set, on any network: CITYLEDGER_KEYSTORE (its password from
    CITYLEDGER_KEYSTORE_PASSWORD or `prompt(text) -> str`) or CITYLEDGER_PRIVATE_KEY; None if neither.

    A key that is set is used or refused, never ignored: a malformed key, an unreadable keystore or
    both variables at once is an error (an empty variable counts as unset)."""
    keystore, key = _key_variables()
    if keystore and key:
        raise CityLedgerError("CITYLEDGER_KEYSTORE and CITYLEDGER_PRIVATE_KEY are both set: set the one to sign with")
    if keystore:
        return _from_keystore(Path(keystore).expanduser(), prompt)
    if not key:
        return None
    try:
        return Account.from_key(key)
    except Exception:
        # The message never repeats the key: it is a secret even when it is malformed.
        raise CityLedgerError(
            "CITYLEDGER_PRIVATE_KEY is not a valid private key: expected 64 hex digits (0x optional), "
            f"got {len(key.removeprefix('0x'))} characters"
        ) from None


def _key_variables() -> tuple[str, str]:
    return os.environ.get("CITYLEDGER_KEYSTORE", "").strip(), os.environ.get("CITYLEDGER_PRIVATE_KEY", "").strip()


def key_source() -> str:
    """Which variable holds the configured key (for messages)."""
    return "CITYLEDGER_KEYSTORE" if _key_variables()[0] else "CITYLEDGER_PRIVATE_KEY"


def sender_account(
    network: Network | str | None = None, index: int | None = None, default: int = 0, prompt=None
) -> LocalAccount:
    """The account that signs a command's transactions: the configured key on any network, devnet
    included; else on a devnet the mnemonic account `index` (--from-account; `default` if None).

    `prompt(text) -> str` asks for the keystore password when the environment has none."""
    net = _network(network)
    key = configured_key(prompt)
    if key is not None:
        if index is not None:
            raise CityLedgerError(f"--from-account {index} and {key_source()} both choose the sender: give one")
        return key
    if not net.devnet:
        if index is not None:
            raise CityLedgerError("--from-account is for devnets; on other networks set CITYLEDGER_KEYSTORE")
        raise CityLedgerError(
            f"network '{net.name}' needs a key: set CITYLEDGER_KEYSTORE (an eth-account keystore file, password in "
            "CITYLEDGER_KEYSTORE_PASSWORD or asked for) or CITYLEDGER_PRIVATE_KEY"
        )
    accounts = devnet_accounts(net)
    i = default if index is None else index
    if not 0 <= i < len(accounts):
        raise CityLedgerError(f"--from-account {i}: the devnet has accounts 0..{len(accounts) - 1}")
    return accounts[i]


def deployer_account(network: Network | str | None = None, prompt=None) -> LocalAccount:
    """The account that deploys and administers: the configured key, else devnet account 0."""
    return sender_account(network, prompt=prompt)


def _from_keystore(path: Path, prompt=None) -> LocalAccount:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CityLedgerError(f"keystore {path} not found (CITYLEDGER_KEYSTORE)") from None
    except (OSError, ValueError) as exc:
        raise CityLedgerError(f"keystore {path} is not a readable keystore JSON file ({exc})") from None
    password = os.environ.get("CITYLEDGER_KEYSTORE_PASSWORD")
    if password is None:
        if prompt is None:
            raise CityLedgerError(f"keystore {path} needs a password: set CITYLEDGER_KEYSTORE_PASSWORD")
        password = prompt(f"password for keystore {path.name}")
    try:
        key = Account.decrypt(data, password)
    except ValueError:
        raise CityLedgerError(f"wrong password for keystore {path}") from None
    except Exception as exc:
        raise CityLedgerError(f"keystore {path} cannot be decrypted ({type(exc).__name__}: {exc})") from None
    return Account.from_key(key)
