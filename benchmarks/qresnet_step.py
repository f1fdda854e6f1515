"""QResNet-20 train-step time (batch 128, 32×32, SGD) against two baselines, same run:

(a) the same network with each quadratic conv computed as three separate convolutions in
    eager fp32 (the authors' layout), and (b) the conventional ResNet-20.

    PYTHONPATH=. python benchmarks/qresnet_step.py --steps 5          # CPU
    PYTHONPATH=. python benchmarks/qresnet_step.py --device cuda --steps 50 --channels-last --bf16
"""

from __future__ import annotations

import argparse
import contextlib

import torch
import torch.nn.functional as F
from _timing import interleaved_min

from qexpr.nn import QuadraticConv2d, qresnet20


class ThreeConvQuadraticConv2d(QuadraticConv2d):
    """The authors' way: r, g and the x⊙x term as three separate convolutions."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self._conv(x, self.wr, self.br)
        g = self._conv(x, self.wg, self.bg)
        return r * g + self._conv(x * x, self.wb, self.c)


def three_conv_model(model: torch.nn.Module) -> torch.nn.Module:
    for m in model.modules():
        if type(m) is QuadraticConv2d:
            m.__class__ = ThreeConvQuadraticConv2d
    return model


def trainer(model, device, channels_last, bf16, batch):
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, 32, 32, generator=g).to(device)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), generator=g).to(device)
    ctx = (lambda: torch.autocast(device.type, torch.bfloat16)) if bf16 else contextlib.nullcontext

    def step():
        with ctx():
            loss = F.cross_entropy(model(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=5, help="steps per timing repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--compile", default="off", help="off | default | reduce-overhead")
    args = parser.parse_args()
    device = torch.device(args.device)
    print(
        f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"batch {args.batch}, {args.steps} steps x {args.repeats} repeats"
    )
    torch.manual_seed(0)
    models = {
        "qexpr QResNet-20": qresnet20(kind="quadratic"),
        "(a) QResNet-20, three convs, eager fp32": three_conv_model(qresnet20(kind="quadratic")),
        "(b) conventional ResNet-20": qresnet20(kind="relu"),
    }
    steps = {}
    for name, model in models.items():
        fast = name.startswith("qexpr") or name.startswith("(b)")
        if args.compile != "off" and fast:
            model.forward = torch.compile(
                model.forward, mode=None if args.compile == "default" else args.compile
            )
        steps[name] = trainer(
            model, device, args.channels_last and fast, args.bf16 and fast, args.batch
        )
    times = interleaved_min(steps, rounds=args.repeats, number=args.steps, warmup=2)
    ref = times["(a) QResNet-20, three convs, eager fp32"]
    conv = times["(b) conventional ResNet-20"]
    for name, t in times.items():
        print(
            f"{name:42s} {t * 1e3:9.1f} ms/step  vs (a) {ref / t:5.2f}x faster  "
            f"vs (b) {t / conv:5.2f}x the time"
        )


if __name__ == "__main__":
    main()
