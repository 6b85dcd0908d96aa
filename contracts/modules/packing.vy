# pragma version 0.4.3
"""
@title CityLedger packing helpers
@custom:contract-name packing
@license MIT
@author CityLedger maintainers
@notice Vyper gives every storage variable a whole slot; the registries pack several
        fields into one uint256 to pay one SSTORE instead of several. These helpers
        read a field back out of a packed word.
@dev Storage layout: none (pure helpers).
"""

# @dev Masks of the low 4, 8, 16, 32, 40, 64, 128 and 160 bits.
MASK4: constant(uint256) = 2**4 - 1
MASK8: constant(uint256) = 2**8 - 1
MASK16: constant(uint256) = 2**16 - 1
MASK32: constant(uint256) = 2**32 - 1
MASK40: constant(uint256) = 2**40 - 1
MASK48: constant(uint256) = 2**48 - 1
MASK64: constant(uint256) = 2**64 - 1
MASK128: constant(uint256) = 2**128 - 1
MASK160: constant(uint256) = 2**160 - 1


@internal
@pure
def _addr(word: uint256) -> address:
    """
    @dev The low 160 bits of a packed word as an address.
    """
    return convert(convert(word & MASK160, uint160), address)


@internal
@pure
def _u8(word: uint256, at: uint256) -> uint8:
    """
    @dev The 8-bit field of `word` starting at bit `at`.
    """
    return convert((word >> at) & MASK8, uint8)


@internal
@pure
def _u16(word: uint256, at: uint256) -> uint16:
    """
    @dev The 16-bit field of `word` starting at bit `at`.
    """
    return convert((word >> at) & MASK16, uint16)


@internal
@pure
def _u32(word: uint256, at: uint256) -> uint32:
    """
    @dev The 32-bit field of `word` starting at bit `at`.
    """
    return convert((word >> at) & MASK32, uint32)


@internal
@pure
def _u64(word: uint256, at: uint256) -> uint64:
    """
    @dev The 64-bit field of `word` starting at bit `at`.
    """
    return convert((word >> at) & MASK64, uint64)


@internal
@pure
def _is_address_word(word: bytes32) -> bool:
    """
    @dev Whether `word` is a left-padded address: its top 12 bytes are zero.
    """
    return convert(word, uint256) >> 160 == 0


@internal
@pure
def _word_address(word: bytes32) -> address:
    """
    @dev The address in a left-padded bytes32 (its low 20 bytes).
    """
    return convert(convert(convert(word, uint256), uint160), address)


@internal
@pure
def _address_word(account: address) -> bytes32:
    """
    @dev An address left-padded to bytes32 (as a consent's publisher scope id).
    """
    return convert(convert(convert(account, uint160), uint256), bytes32)
