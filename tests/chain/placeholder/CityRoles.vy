# pragma version ~=0.4.3
"""@notice Placeholder with the real constructor of CityRoles, for pipeline tests."""

from snekmate.auth import ownable
from modules import admin

initializes: ownable
initializes: admin

exports: ownable.owner

roles_of: public(HashMap[address, uint256])


event RoleGranted:
    account: indexed(address)
    role: uint256
    kind: uint8
    granted_by: indexed(address)


@deploy
def __init__(admin_: address):
    ownable.__init__()
    ownable._transfer_ownership(admin_)
    admin._set_admin(admin_)


@external
def grant_role(account: address, role: uint256, kind: uint8):
    """@notice Grant a role bit (admin only)."""
    assert msg.sender == admin.admin, "roles: caller is not the admin"
    self.roles_of[account] = self.roles_of[account] | role | (convert(kind, uint256) << 8)
    log RoleGranted(account=account, role=role, kind=kind, granted_by=msg.sender)


@view
@external
def has_role(account: address, role: uint256) -> bool:
    """@notice Whether the account holds the role bit."""
    return self.roles_of[account] & role != 0
