"""Forward+backward time of quadratic layers over the conventional layer at the same shape.

Goal: QuadraticLinear ≤ 3.0× nn.Linear at 512→512, batch 256 (CPU, fp32). Also compares
the alternatives for computing the three branches: three separate matmuls (qexpr's layer on
the CPU), one fused matmul on [wr; wg] (qexpr's layer on an accelerator), and one matmul on
[x, x⊙x] with a block weight.

    PYTHONPATH=. python benchmarks/layers.py [--device cuda] [--threads 2]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from _timing import interleaved_min
from torch import nn

from qexpr.nn import CompactConv2d, CompactLinear, QuadraticConv2d, QuadraticLinear


def fused_matmul(layer: QuadraticLinear, x: torch.Tensor) -> torch.Tensor:
    weight, bias = layer._stacked()
    r, g = F.linear(x, weight, bias).chunk(2, -1)
    return torch.addcmul(F.linear(x * x, layer.wb, layer.c), r, g)


def block_matmul(layer: QuadraticLinear, x: torch.Tensor) -> torch.Tensor:
    zeros = torch.zeros_like(layer.wr)
    weight = torch.cat(
        (
            torch.cat((layer.wr, zeros), 1),
            torch.cat((layer.wg, zeros), 1),
            torch.cat((zeros, layer.wb), 1),
        )
    )
    bias = torch.cat((layer.br, layer.bg, layer.c))
    r, g, q = F.linear(torch.cat((x, x * x), -1), weight, bias).chunk(3, -1)
    return r * g + q


def step(forward, params, x):
    def run():
        for p in params:
            p.grad = None
        forward(x).sum().backward()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    torch.manual_seed(0)
    print(f"device {dev}, torch {torch.__version__}, threads {torch.get_num_threads()}")

    x = torch.randn(256, 512, device=dev, requires_grad=True)
    lin = nn.Linear(512, 512, device=dev)
    quad = QuadraticLinear(512, 512, init="standard", device=dev)
    comp = CompactLinear(512, 512, init="standard", device=dev)
    qp = list(quad.parameters())
    report(
        {
            "nn.Linear 512->512, batch 256": step(lin, list(lin.parameters()), x),
            "QuadraticLinear (qexpr: wr, wg, wb matmuls on CPU)": step(quad, qp, x),
            "  variant: fused [wr;wg] matmul + x² matmul": step(
                lambda t: fused_matmul(quad, t), qp, x
            ),
            "  variant: one block matmul on [x, x²]": step(lambda t: block_matmul(quad, t), qp, x),
            "CompactLinear (two matmuls: x, x²)": step(comp, list(comp.parameters()), x),
        },
        number=5,
    )

    xc = torch.randn(32, 64, 32, 32, device=dev, requires_grad=True)
    conv = nn.Conv2d(64, 64, 3, padding=1, device=dev)
    qconv = QuadraticConv2d(64, 64, 3, padding=1, init="standard", device=dev)
    cconv = CompactConv2d(64, 64, 3, padding=1, init="standard", device=dev)

    def qconv_fused(t):
        weight, bias = qconv._stacked()
        r, g = qconv._conv(t, weight, bias).chunk(2, 1)
        return torch.addcmul(qconv._conv(t * t, qconv.wb, qconv.c), r, g)

    report(
        {
            "nn.Conv2d 64->64 3x3, 32x32, batch 32": step(conv, list(conv.parameters()), xc),
            "QuadraticConv2d (qexpr: three convs on CPU)": step(
                qconv, list(qconv.parameters()), xc
            ),
            "  variant: fused r/g conv + x² conv": step(qconv_fused, list(qconv.parameters()), xc),
            "CompactConv2d (two convs: x, x²)": step(cconv, list(cconv.parameters()), xc),
        },
        number=2,
    )


def report(candidates: dict, number: int) -> None:
    """Time the candidates interleaved; print each against the first (the baseline)."""
    times = interleaved_min(candidates, rounds=7, number=number)
    base = next(iter(times.values()))
    for name, t in times.items():
        print(f"{name:48s} {t * 1e3:8.3f} ms  ratio {t / base:5.2f}x")


if __name__ == "__main__":
    main()
