# pragma version ~=0.4.3
"""@notice Placeholder with the real constructor of ConsentRegistry, for pipeline tests."""

roles: public(address)
datasets: public(address)


@deploy
def __init__(roles: address, datasets: address):
    self.roles = roles
    self.datasets = datasets
