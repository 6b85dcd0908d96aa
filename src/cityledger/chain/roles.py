"""The devnet's standing cast: roles granted to accounts 1-4 so every demo and test starts realistic."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount
from web3 import Web3

from ..codes import KIND_AGENCY, KIND_BUSINESS, ROLE_AUDITOR, ROLE_PUBLISHER, ROLE_RESEARCHER
from .accounts import AGENCY, AUDITOR, BUSINESS, RESEARCHER
from .deployments import Deployment, contract
from .tx import transact

# account index -> (role, publisher kind); account 0 is the admin (CityRoles owner).
DEVNET_ROLES: dict[int, tuple[int, int]] = {
    AGENCY: (ROLE_PUBLISHER, KIND_AGENCY),
    BUSINESS: (ROLE_PUBLISHER, KIND_BUSINESS),
    AUDITOR: (ROLE_AUDITOR, 0),
    RESEARCHER: (ROLE_RESEARCHER, 0),
}


def seed_devnet_roles(w3: Web3, deployment: Deployment, accounts: list[LocalAccount], cfg=None) -> int:
    """Grant the devnet roles (1 agency publisher, 2 business publisher, 3 auditor, 4 researcher)
    from accounts[0], the admin. Roles already held are skipped; returns how many were granted."""
    roles = contract(w3, deployment, "CityRoles", cfg)
    granted = 0
    for index, (role, kind) in DEVNET_ROLES.items():
        account = accounts[index].address
        if roles.functions.has_role(account, role).call():
            continue
        transact(w3, accounts[0], roles.functions.grant_role(account, role, kind))
        granted += 1
    return granted
