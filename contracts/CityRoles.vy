# pragma version 0.4.3
"""
@title CityLedger roles
@custom:contract-name CityRoles
@license MIT
@author CityLedger maintainers
@notice The city data office (the admin) accredits publishers (public agencies or
        businesses), auditors and researchers. One storage slot per account, so every
        role check elsewhere is one cold SLOAD. Admin transfer is two-step (snekmate
        ownable_2step), also at deployment, and cannot be renounced. The admin also
        publishes each organisation's public profile (name, kind, website, contact,
        jurisdiction): the document lives off chain in the content-addressed metadata store,
        its hash and URI here. Citizens hold no role and so never get a profile.
@dev Storage layout (one slot per entry):
     - `_roles[account]`: `roles | publisher_kind << 8 | ever_held << 16`
         bits 0-7   the roles held now (1 publisher, 2 auditor, 4 researcher)
         bits 8-15  the publisher kind (1 agency, 2 business) while ROLE_PUBLISHER is held
         bits 16-23 every role ever held (set by a grant, never cleared), so a former
                    publisher can still be named in a rights request
     - `_profiles[account]`: the SHA-256 of the organisation's profile document (its URI is
       in the ProfileUpdated event only).
     - snekmate `ownable.owner` and `ownable_2step.pending_owner`.
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

# @dev Role bit of publishers (agencies and businesses that register datasets).
ROLE_PUBLISHER: public(constant(uint256)) = 1
# @dev Role bit of auditors (attest datasets).
ROLE_AUDITOR: public(constant(uint256)) = 2
# @dev Role bit of researchers (request access; the grantee "any researcher" of a consent).
ROLE_RESEARCHER: public(constant(uint256)) = 4
# @dev Publisher kind of a public agency (P-end).
KIND_AGENCY: constant(uint8) = 1
# @dev Publisher kind of a business (B-end).
KIND_BUSINESS: constant(uint8) = 2
# @dev Position of the publisher kind in the role word.
KIND_SHIFT: constant(uint256) = 8
# @dev Position of the roles-ever-held bits in the role word.
EVER_SHIFT: constant(uint256) = 16
# @dev Mask of one byte of the role word (the roles held, the kind, or the roles ever held).
ROLE_BITS: constant(uint256) = 255


# @dev An account was given a role (`kind` is the publisher kind, 0 for other roles).
event RoleGranted:
    account: indexed(address)
    role: uint256
    kind: uint8
    granted_by: indexed(address)


# @dev An account lost a role; the "ever held" bit of that role stays set.
event RoleRevoked:
    account: indexed(address)
    role: uint256
    revoked_by: indexed(address)


# @dev The admin published (or replaced) an organisation's profile document.
event ProfileUpdated:
    account: indexed(address)
    profile_hash: bytes32
    profile_uri: String[256]
    updated_by: indexed(address)


# @dev account -> roles | publisher_kind << 8 | ever_held << 16 (see the layout above).
_roles: HashMap[address, uint256]
# @dev account -> SHA-256 of its profile document (0: none).
_profiles: HashMap[address, bytes32]


@deploy
def __init__(admin: address):
    """
    @notice Deploys the roles registry. The deployer is the admin until `admin` accepts:
            with `admin` != deployer a two-step transfer to `admin` is started, so a
            mistyped address cannot take (or lose) the city's admin role.
    @param admin The intended admin (the city data office); may be the deployer.
    """
    assert admin != empty(address), "roles: admin is the zero address"
    ownable.__init__()
    ownable_2step.__init__()
    if admin != msg.sender:
        ownable_2step.pending_owner = admin
        log ownable_2step.OwnershipTransferStarted(previous_owner=msg.sender, new_owner=admin)


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
         change a publisher's kind). The role's "ever held" bit is set for good.
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
    self._roles[account] = current | role | (convert(kind, uint256) << KIND_SHIFT) | (role << EVER_SHIFT)
    log RoleGranted(account=account, role=role, kind=kind, granted_by=msg.sender)


@external
def revoke_role(account: address, role: uint256):
    """
    @notice Revokes one role from `account`. Admin only.
    @dev Revoking ROLE_PUBLISHER also clears the publisher kind; the "ever held" bits stay.
    @param account The account.
    @param role One role bit the account holds.
    """
    assert msg.sender == ownable.owner, "roles: caller is not the admin"
    self._check_role(role)
    current: uint256 = self._roles[account]
    assert current & role != 0, "roles: account does not have the role"
    updated: uint256 = current & ~role
    if role == ROLE_PUBLISHER:
        updated = updated & ~(ROLE_BITS << KIND_SHIFT)
    self._roles[account] = updated
    log RoleRevoked(account=account, role=role, revoked_by=msg.sender)


@external
def set_profile(account: address, profile_hash: bytes32, profile_uri: String[256]):
    """
    @notice Publishes or replaces the public profile of an organisation. Admin only; the
            account must hold or have held a role (organisations only, never citizens).
    @dev The profile document (name, kind, website, contact point, jurisdiction) is public
         and holds no personal data; it is kept off chain by its SHA-256.
    @param account The organisation's account.
    @param profile_hash SHA-256 of the profile document.
    @param profile_uri Where the document lives (e.g. the metadata store's URI).
    """
    assert msg.sender == ownable.owner, "roles: caller is not the admin"
    assert profile_hash != empty(bytes32), "roles: empty profile hash"
    assert self._roles[account] >> EVER_SHIFT != 0, "roles: account has never held a role"
    self._profiles[account] = profile_hash
    log ProfileUpdated(account=account, profile_hash=profile_hash, profile_uri=profile_uri, updated_by=msg.sender)


@external
@view
def profile_of(account: address) -> bytes32:
    """
    @notice The SHA-256 of the organisation's profile document; 0 if none.
    @param account The organisation's account.
    @return bytes32 The profile hash.
    """
    return self._profiles[account]


@external
@view
def has_role(account: address, role: uint256) -> bool:
    """
    @notice Whether `account` holds every role bit in `role` now.
    @param account The account.
    @param role A non-empty role bitmask (bits 0-2).
    @return bool True if all bits are held.
    """
    if role == 0 or role > ROLE_BITS:
        return False
    return self._roles[account] & role == role


@external
@view
def has_held_role(account: address, role: uint256) -> bool:
    """
    @notice Whether `account` holds or has ever held every role bit in `role`.
    @param account The account.
    @param role A non-empty role bitmask (bits 0-2).
    @return bool True if all bits were granted at some time.
    """
    if role == 0 or role > ROLE_BITS:
        return False
    return (self._roles[account] >> EVER_SHIFT) & role == role


@external
@view
def roles_of(account: address) -> uint256:
    """
    @notice The account's whole role word: roles | publisher_kind << 8 | ever_held << 16.
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
