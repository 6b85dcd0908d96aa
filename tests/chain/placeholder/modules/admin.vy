# pragma version ~=0.4.3
"""@notice Placeholder module: an admin address (tests that a module edit recompiles its users)."""

admin: public(address)


@internal
def _set_admin(a: address):
    self.admin = a
