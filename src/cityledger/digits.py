"""Whether request or header text is a decimal number that int() reads."""


def is_decimal(text: str) -> bool:
    """ASCII digits only: str.isdigit() is also true for '²' and other digits that int() refuses."""
    return text.isascii() and text.isdigit()
