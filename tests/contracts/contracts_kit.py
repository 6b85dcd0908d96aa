"""Helpers shared by the contract tests and the gas bench: deploy the five contracts in
titanoboa, sign EIP-712 consent messages exactly as a wallet does (eth_account), and small
encoders for the codes of docs/CONTRACTS.md."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import boa
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from cityledger.signing import GRANT_TYPES, REVOKE_TYPES, SECP256K1_N, domain

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
NAMES = ["CityRoles", "DatasetRegistry", "ConsentRegistry", "AccessRegistry", "RightsRegistry", "DeletionRegistry"]

ROLE_PUBLISHER, ROLE_AUDITOR, ROLE_RESEARCHER = 1, 2, 4
KIND_AGENCY, KIND_BUSINESS = 1, 2
SCOPE_DATASET, SCOPE_PUBLISHER, SCOPE_DOMAIN = 1, 2, 3
ANY_RESEARCHER = "0x" + "00" * 20
DAY = 24 * 3600
MAX_SNAPSHOT_AGE = 7200  # blocks: the deployment default (src/cityledger/chain/deploy.py)


@functools.cache
def deployer(name: str):
    """The compiled contract (compiled once per process)."""
    return boa.load_partial(str(CONTRACTS / f"{name}.vy"))


@functools.cache
def mock_wallet_deployer():
    return boa.load_partial(str(Path(__file__).with_name("MockWallet.vy")))


def account(label: str) -> LocalAccount:
    """A deterministic key per label, so failures are reproducible."""
    return Account.from_key(keccak(text=f"cityledger-test:{label}"))


def purpose(name: str = "ScientificResearch") -> bytes:
    return keccak(text="https://w3id.org/dpv#" + name)


def word(value: int | str) -> bytes:
    """A uint or an address left-padded to bytes32."""
    if isinstance(value, str):
        return bytes.fromhex(value[2:].rjust(64, "0"))
    return value.to_bytes(32, "big")


def h(label: str) -> bytes:
    """A recognisable bytes32 hash for test data."""
    return keccak(text=label)


@dataclasses.dataclass
class System:
    roles: object
    datasets: object
    consent: object
    access: object
    rights: object
    deletion: object
    admin: LocalAccount
    agency: LocalAccount
    business: LocalAccount
    auditor: LocalAccount
    researcher: LocalAccount
    citizens: list[LocalAccount]

    def as_(self, who):
        """boa.env.prank for an eth_account account or an address."""
        return boa.env.prank(getattr(who, "address", who))

    def register(self, publisher, content: str, domain: int = 1, personal: bool = True, supersedes: int = 0) -> int:
        with self.as_(publisher):
            return self.datasets.register(
                h(content), h("meta:" + content), f"ipfs://meta/{content}.json", domain, personal, supersedes
            )

    def open_access(self, dataset_id: int, requester=None, days: int = 10, p=None) -> int:
        """Access to `dataset_id` requested (by the researcher by default) and granted by its
        publisher for `days` days; returns the access id."""
        with self.as_(requester or self.researcher):
            access_id = self.access.request_access(dataset_id, p or purpose(), h("terms"))
        with self.as_(self.datasets.publisher_of(dataset_id)):
            self.access.grant_access(access_id, boa.env.timestamp + days * DAY)
        return access_id

    def dual(self, label: str = "dual") -> LocalAccount:
        """A new account holding both the researcher and the (business) publisher role."""
        who = account(label)
        with self.as_(self.admin):
            self.roles.grant_role(who.address, ROLE_RESEARCHER, 0)
            self.roles.grant_role(who.address, ROLE_PUBLISHER, KIND_BUSINESS)
        return who

    def chain_id(self) -> int:
        return boa.env.evm.patch.chain_id

    def sign_grant(
        self,
        signer,
        citizen=None,
        p=None,
        scope_kind=SCOPE_DOMAIN,
        scope_id=None,
        grantee=ANY_RESEARCHER,
        expiry=None,
        nonce=0,
        deadline=None,
        chain_id=None,
        contract=None,
    ) -> bytes:
        msg = grant_message(citizen or signer.address, p, scope_kind, scope_id, grantee, expiry, nonce, deadline)
        return sign_typed(signer, GRANT_TYPES, msg, chain_id or self.chain_id(), contract or self.consent.address)

    def sign_revoke(
        self,
        signer,
        citizen=None,
        p=None,
        scope_kind=SCOPE_DOMAIN,
        scope_id=None,
        grantee=ANY_RESEARCHER,
        nonce=0,
        deadline=None,
        chain_id=None,
        contract=None,
    ) -> bytes:
        msg = grant_message(citizen or signer.address, p, scope_kind, scope_id, grantee, 0, nonce, deadline)
        del msg["expiry"]
        return sign_typed(signer, REVOKE_TYPES, msg, chain_id or self.chain_id(), contract or self.consent.address)


def grant_message(citizen, p, scope_kind, scope_id, grantee, expiry, nonce, deadline) -> dict:
    now = boa.env.timestamp
    return {
        "citizen": citizen,
        "purpose": p if p is not None else purpose(),
        "scopeKind": scope_kind,
        "scopeId": scope_id if scope_id is not None else word(1),
        "grantee": grantee,
        "expiry": expiry if expiry is not None else now + 365 * DAY,
        "nonce": nonce,
        "deadline": deadline if deadline is not None else now + DAY,
    }


def sign_typed(signer: LocalAccount, types: dict, message: dict, chain_id: int, contract: str) -> bytes:
    """Sign as a wallet does (eth_signTypedData_v4 through eth_account)."""
    return bytes(signer.sign_typed_data(domain(chain_id, contract), types, message).signature)


def high_s(signature: bytes) -> bytes:
    """The malleable twin of a signature: s -> n - s, v flipped. Recovers the same signer."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


def deploy_system(grant_roles: bool = True) -> System:
    admin = account("admin")
    with boa.env.prank(admin.address):
        roles = deployer("CityRoles").deploy(admin.address)
        datasets = deployer("DatasetRegistry").deploy(roles.address)
        consent = deployer("ConsentRegistry").deploy(roles.address, datasets.address)
        access = deployer("AccessRegistry").deploy(roles.address, datasets.address, MAX_SNAPSHOT_AGE)
        rights = deployer("RightsRegistry").deploy(roles.address, datasets.address)
        deletion = deployer("DeletionRegistry").deploy(access.address, consent.address)
    s = System(
        roles,
        datasets,
        consent,
        access,
        rights,
        deletion,
        admin,
        account("agency"),
        account("business"),
        account("auditor"),
        account("researcher"),
        [account(f"citizen{i}") for i in range(4)],
    )
    if grant_roles:
        with boa.env.prank(admin.address):
            roles.grant_role(s.agency.address, ROLE_PUBLISHER, KIND_AGENCY)
            roles.grant_role(s.business.address, ROLE_PUBLISHER, KIND_BUSINESS)
            roles.grant_role(s.auditor.address, ROLE_AUDITOR, 0)
            roles.grant_role(s.researcher.address, ROLE_RESEARCHER, 0)
    return s


def events(contract, name: str | None = None) -> list:
    """Decoded events of the last call on `contract`, optionally of one type."""
    logs = contract.get_logs()
    return [e for e in logs if name is None or type(e).__name__ == name]
