"""Per-epoch schedule pieces, each a pure function of (seed, epoch): the ``MultiStepLR``
factor and the crop-and-flip augmentation of the reference recipe."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["augment_plan", "crop_flip", "lr_factor"]


def lr_factor(milestones: tuple[int, ...], epoch: int) -> float:
    """``0.1 ** #{m in milestones : m <= epoch}``: the ``MultiStepLR`` factor of ``epoch``."""
    return 0.1 ** sum(m <= epoch for m in milestones)


def augment_plan(seed: int, epoch: int, n: int) -> tuple[Tensor, Tensor]:
    """Per example of one epoch: crop offsets ``(dy, dx)`` in 0..8 and a flip flag.

    A pure function of (seed, epoch), drawn from a stream separate from the example order's.
    """
    gen = torch.Generator().manual_seed(2 * (seed * 1_000_003 + epoch) + 1)
    return torch.randint(0, 9, (n, 2), generator=gen), torch.randint(0, 2, (n,), generator=gen)


def crop_flip(x: Tensor, offsets: Tensor, flips: Tensor, pad: int = 4) -> Tensor:
    """Crop each image of ``x`` (N, C, H, W) from its zero-padded copy at ``offsets``
    (row, column shift in ``0..2·pad``), then mirror it where ``flips`` is 1 (one gather)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    offsets, flips = offsets.to(x.device), flips.to(x.device)
    across = torch.arange(w, device=x.device)
    rows = offsets[:, :1] + torch.arange(h, device=x.device)
    cols = offsets[:, 1:] + torch.where(flips[:, None] == 1, w - 1 - across, across)
    picked = padded[
        torch.arange(n, device=x.device)[:, None, None], :, rows[:, :, None], cols[:, None, :]
    ]
    return picked.permute(0, 3, 1, 2).contiguous()
