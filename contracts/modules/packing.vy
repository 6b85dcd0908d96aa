# pragma version 0.4.3
"""
@title CityLedger packing helpers
@notice Vyper gives every storage variable a whole slot; the registries pack several
        fields into one uint256 to pay one SSTORE instead of several. These helpers
        read a field back out of a packed word.
"""

MASK8: constant(uint256) = 2**8 - 1
MASK32: constant(uint256) = 2**32 - 1
MASK40: constant(uint256) = 2**40 - 1
MASK64: constant(uint256) = 2**64 - 1
MASK128: constant(uint256) = 2**128 - 1
MASK160: constant(uint256) = 2**160 - 1


@internal
@pure
def _addr(word: uint256) -> address:
    # The low 160 bits of a packed word as an address.
    return convert(convert(word & MASK160, uint160), address)


@internal
@pure
def _u8(word: uint256, at: uint256) -> uint8:
    return convert((word >> at) & MASK8, uint8)


@internal
@pure
def _u32(word: uint256, at: uint256) -> uint32:
    return convert((word >> at) & MASK32, uint32)


@internal
@pure
def _u64(word: uint256, at: uint256) -> uint64:
    return convert((word >> at) & MASK64, uint64)


@internal
@pure
def _is_address_word(word: bytes32) -> bool:
    # A left-padded address: the top 12 bytes are zero.
    return convert(word, uint256) >> 160 == 0
