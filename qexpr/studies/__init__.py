"""Studies: the places allowed to combine subsystems (and to import torch lazily).

* ``_verify`` / ``_checks`` — ``qexpr verify``, the theorem checks end to end;
* ``_approximation`` — fitting targets with the three kinds of network;
* ``_max_pieces`` — ``qexpr max-pieces``, the search for the most pieces (certified exactly);
* ``_collapse`` — the training-collapse study (needs the ``train`` extra);
* ``_plots`` — figures of splines, bounds, slices and fits (matplotlib, Agg).
"""

from qexpr.studies._max_pieces import MaxPiecesResult, max_pieces
from qexpr.studies._verify import Check, VerifyReport, verify

__all__ = ["Check", "MaxPiecesResult", "VerifyReport", "max_pieces", "verify"]
