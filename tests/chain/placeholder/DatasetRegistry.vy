# pragma version ~=0.4.3
"""@notice Placeholder with the real constructor of DatasetRegistry, for pipeline tests."""

roles: public(address)
count: public(uint256)


@deploy
def __init__(roles: address):
    self.roles = roles


@external
def bump(n: uint256) -> uint256:
    """@notice Add n to the counter; reverts on zero."""
    assert n != 0, "placeholder: n is zero"
    self.count += n
    return self.count
