# pragma version 0.4.3
"""
@title CityLedger roles
@notice The city data office (the admin) accredits publishers (public agencies or
        businesses), auditors and researchers. One storage slot per account:
        `roles_of(a) = bitmask | publisher_kind << 8`, so every role check elsewhere
        is one cold SLOAD. Admin transfer is two-step (snekmate ownable_2step) and
        cannot be renounced.
"""

from snekmate.auth import ownable
from snekmate.auth import ownable_2step

initializes: ownable
initializes: ownable_2step[ownable := ownable]

# No renounce_ownership: the city must always have an admin.
exports: (
    ownable_2step.owner,
    ownable_2step.pending_owner,
    ownable_2step.transfer_ownership,
    ownable_2step.accept_ownership,
)

ROLE_PUBLISHER: public(constant(uint256)) = 1
ROLE_AUDITOR: public(constant(uint256)) = 2
ROLE_RESEARCHER: public(constant(uint256)) = 4
KIND_AGENCY: constant(uint8) = 1
KIND_BUSINESS: constant(uint8) = 2
KIND_SHIFT: constant(uint256) = 8
ROLE_BITS: constant(uint256) = 255


event RoleGranted:
    account: indexed(address)
    role: uint256
    kind: uint8
    granted_by: indexed(address)


event RoleRevoked:
    account: indexed(address)
    role: uint256
    revoked_by: indexed(address)


_roles: HashMap[address, uint256]


@deploy
def __init__(admin: address):
    """
    @notice Deploys the roles registry with `admin` (the city data office) as owner.
    @param admin The admin account; may differ from the deployer.
    """
    assert admin != empty(address), "roles: admin is the zero address"
    ownable.__init__()
    ownable_2step.__init__()
    if admin != msg.sender:
        ownable_2step._transfer_ownership(admin)


@internal
@pure
def _check_role(role: uint256):
    assert role == ROLE_PUBLISHER or role == ROLE_AUDITOR or role == ROLE_RESEARCHER, "roles: unknown role"


@external
def grant_role(account: address, role: uint256, kind: uint8):
    """
    @notice Grants one role to `account`. Admin only.
    @dev `kind` (1 agency, 2 business) is required with ROLE_PUBLISHER and must be 0
         otherwise. Granting a role the account already holds reverts (revoke first to
         change a publisher's kind).
    @param account The account to accredit.
    @param role One role bit: 1 publisher, 2 auditor, 4 researcher.
    @param kind Publisher kind, or 0.
    """
    assert msg.sender == ownable.owner, "roles: caller is not the admin"
    assert account != empty(address), "roles: account is the zero address"
    self._check_role(role)
    if role == ROLE_PUBLISHER:
        assert kind == KIND_AGENCY or kind == KIND_BUSINESS, "roles: publisher kind must be 1 or 2"
    else:
        assert kind == 0, "roles: kind is only for publishers"
    current: uint256 = self._roles[account]
    assert current & role == 0, "roles: account already has the role"
    self._roles[account] = current | role | (convert(kind, uint256) << KIND_SHIFT)
    log RoleGranted(account=account, role=role, kind=kind, granted_by=msg.sender)


@external
def revoke_role(account: address, role: uint256):
    """
    @notice Revokes one role from `account`. Admin only.
    @dev Revoking ROLE_PUBLISHER also clears the publisher kind.
    @param account The account.
    @param role One role bit the account holds.
    """
    assert msg.sender == ownable.owner, "roles: caller is not the admin"
    self._check_role(role)
    current: uint256 = self._roles[account]
    assert current & role != 0, "roles: account does not have the role"
    updated: uint256 = current & ~role
    if role == ROLE_PUBLISHER:
        updated = updated & ROLE_BITS
    self._roles[account] = updated
    log RoleRevoked(account=account, role=role, revoked_by=msg.sender)


@external
@view
def has_role(account: address, role: uint256) -> bool:
    """
    @notice Whether `account` holds every role bit in `role`.
    @param account The account.
    @param role A non-empty role bitmask (bits 0-2).
    @return bool True if all bits are held.
    """
    if role == 0 or role > ROLE_BITS:
        return False
    return self._roles[account] & role == role


@external
@view
def roles_of(account: address) -> uint256:
    """
    @notice The account's whole role word: bitmask | publisher_kind << 8.
    @param account The account.
    @return uint256 The packed roles.
    """
    return self._roles[account]


@external
@view
def publisher_kind(account: address) -> uint8:
    """
    @notice The publisher kind of `account` (1 agency, 2 business), 0 if not a publisher.
    @param account The account.
    @return uint8 The kind.
    """
    return convert((self._roles[account] >> KIND_SHIFT) & ROLE_BITS, uint8)
