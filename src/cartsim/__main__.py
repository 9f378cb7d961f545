"""``python -m cartsim``: the command line."""

from cartsim.cli import main

main()
