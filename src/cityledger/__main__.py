"""`python -m cityledger` is the `cityledger` command."""

from .cli import main

main()
