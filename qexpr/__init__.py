"""qexpr."""
