"""``python -m qexpr`` runs the command line."""

from qexpr.cli.main import main

main()
