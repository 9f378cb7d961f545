"""``python -m cartsim.cli``: the command line."""

from cartsim.cli import main

main()
