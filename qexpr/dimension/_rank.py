"""Ranks of integer matrices over prime fields: the certified step of the dimension."""

from __future__ import annotations

import numpy as np

__all__ = ["modular_rank"]


def modular_rank(matrix: np.ndarray, p: int) -> int:
    """Rank over :math:`\\mathbb{F}_p` of an integer matrix (python-flint ``nmod_mat``)."""
    from flint import nmod_mat

    if 0 in matrix.shape:
        return 0
    return nmod_mat(matrix.tolist(), p).rank()
