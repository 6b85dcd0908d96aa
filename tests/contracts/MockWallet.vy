# pragma version 0.4.3
"""
@title ERC-1271 test wallet
@notice A one-owner contract wallet: a signature is valid iff the owner's EOA signed the
        digest (65-byte r || s || v). `approve_all` lets a test make it answer "valid" to
        anything, to prove the registry asks the wallet and trusts only its answer; `burn`
        makes it spend all the gas it is given, as a hostile wallet would to sink a batch.
"""

MAGIC: constant(bytes4) = 0x1626BA7E
# Like OpenZeppelin's ECDSA, the wallet refuses the high-s twin of a signature.
HALF_N: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168

owner: public(address)
approve_all: public(bool)
burn: public(bool)


@deploy
def __init__(owner_: address):
    """
    @notice Deploys the wallet for `owner_`.
    @param owner_ The EOA whose signatures the wallet accepts.
    """
    self.owner = owner_


@external
def set_approve_all(flag: bool):
    """
    @notice Accept every signature (test switch).
    @param flag The new setting.
    """
    self.approve_all = flag


@external
def set_burn(flag: bool):
    """
    @notice Spend every unit of gas on each signature check (test switch).
    @param flag The new setting.
    """
    self.burn = flag


@external
@view
def isValidSignature(digest: bytes32, signature: Bytes[65]) -> bytes4:
    """
    @notice ERC-1271: the magic value iff the owner signed `digest`.
    @param digest The signed digest.
    @param signature r || s || v.
    @return bytes4 0x1626ba7e if valid, 0xffffffff otherwise.
    """
    if self.burn:
        x: bytes32 = digest
        for i: uint256 in range(10**7):
            x = keccak256(x)
        return convert(slice(x, 0, 4), bytes4)
    if self.approve_all:
        return MAGIC
    if len(signature) != 65:
        return 0xFFFFFFFF
    r: uint256 = extract32(signature, 0, output_type=uint256)
    s: uint256 = extract32(signature, 32, output_type=uint256)
    v: uint256 = convert(slice(signature, 64, 1), uint256)
    if s > HALF_N:
        return 0xFFFFFFFF
    if ecrecover(digest, v, r, s) == self.owner:
        return MAGIC
    return 0xFFFFFFFF
