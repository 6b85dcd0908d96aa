# pragma version 0.4.3
"""
@title CityLedger role gate
@notice Holds the CityRoles address of a contract and reads an account's role bitmask
        with one static call (one cold SLOAD in CityRoles). Each contract asserts with
        its own revert string, so the caller sees which registry refused.
"""

from . import ICityRoles

# Role bits (docs/CONTRACTS.md "Codes").
ROLE_PUBLISHER: constant(uint256) = 1
ROLE_AUDITOR: constant(uint256) = 2
ROLE_RESEARCHER: constant(uint256) = 4

roles: public(immutable(ICityRoles))


@deploy
def __init__(roles_: address):
    assert roles_ != empty(address), "roles address is the zero address"
    roles = ICityRoles(roles_)


@internal
@view
def _roles_of(account: address) -> uint256:
    return staticcall roles.roles_of(account)


@internal
@view
def _has_any(account: address, mask: uint256) -> bool:
    return (staticcall roles.roles_of(account)) & mask != 0
