# pragma version 0.4.3
"""
@title CityLedger role gate
@custom:contract-name role_gate
@license MIT
@author CityLedger maintainers
@notice Holds the CityRoles address of a contract and reads an account's role word
        with one static call (one cold SLOAD in CityRoles). Each contract asserts with
        its own revert string, so the caller sees which registry refused.
@dev Storage layout: none (the CityRoles address is an immutable).
"""

from . import ICityRoles

# @dev Role bits (docs/CONTRACTS.md "Codes"), as in CityRoles.
ROLE_PUBLISHER: constant(uint256) = 1
ROLE_AUDITOR: constant(uint256) = 2
ROLE_RESEARCHER: constant(uint256) = 4
# @dev Position of the roles-ever-held bits in CityRoles' role word.
EVER_SHIFT: constant(uint256) = 16

# @dev The CityRoles contract every role check reads.
roles: public(immutable(ICityRoles))


@deploy
def __init__(roles_: address):
    assert roles_ != empty(address), "roles address is the zero address"
    roles = ICityRoles(roles_)


@internal
@view
def _roles_of(account: address) -> uint256:
    """
    @dev The account's packed role word: roles | kind << 8 | ever_held << 16.
    """
    return staticcall roles.roles_of(account)


@internal
@view
def _has_any(account: address, mask: uint256) -> bool:
    """
    @dev Whether the account holds at least one of the role bits in `mask` now.
    """
    return (staticcall roles.roles_of(account)) & mask != 0
