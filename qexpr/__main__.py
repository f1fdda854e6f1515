"""``python -m qexpr`` runs the command line."""

from qexpr._cli.main import main

main()
