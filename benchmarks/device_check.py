"""Device check of the trainer (run on a CUDA machine; < 3 minutes on one GPU).

    PYTHONPATH=. python benchmarks/device_check.py                 # CUDA (skips without it)
    PYTHONPATH=. python benchmarks/device_check.py --device cpu    # the same checks on the CPU

1. single device: a QMLP on digits, 2 epochs, and a QResNet-20 epoch on random images
   with channels-last and bf16; prints each epoch's log line and the time;
2. resume: 2 epochs uninterrupted vs 1 + 1 resumed with ``deterministic=True``; bit-identical
   parameters are required (exit status 1 otherwise);
3. a 1-process ``torchrun`` training through the CLI (NCCL on CUDA, gloo on the CPU),
   which exercises ``LOCAL_RANK``, ``set_device``, the process group and DDP.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from qexpr.nn import Dataset, ReLinear, TrainConfig, train


def _images(n: int = 512, seed: int = 0) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return Dataset("random-images", x[:384], y[:384], x[384:], y[384:], "classification", 10)


def _timed(label: str, config: TrainConfig, **kwargs) -> object:
    start = time.perf_counter()
    result = train(config, **kwargs)
    print(f"{label}: {time.perf_counter() - start:.1f} s, last epoch {result.history[-1]}")
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("device_check: CUDA not available; skipped")
        return 0
    print(f"torch {torch.__version__}, device {args.device}")
    recipe = ReLinear("sg+sw", gamma_g=1e-2, gamma_b=1e-2, clip=1.0)
    qmlp = TrainConfig(
        widths=(64, 64), epochs=2, batch_size=64, relinear=recipe, device=args.device
    )
    _timed("qmlp digits", qmlp)
    resnet = TrainConfig(
        model="qresnet20",
        epochs=1,
        batch_size=128,
        lr=0.05,
        channels_last=True,
        bf16=True,
        device=args.device,
    )
    _timed("qresnet20 bf16 channels-last", resnet, data=_images())
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        exact = replace(qmlp, deterministic=True)
        full = _timed("deterministic 2 epochs", exact)
        ckpt = Path(tmp) / "c.pt"
        train(replace(exact, epochs=1), checkpoint=ckpt)
        resumed = _timed("deterministic 1 + 1 resumed", exact, checkpoint=ckpt, resume=True)
        same = _same(full.model, resumed.model)
        ok &= same
        print(f"resume bit-identical: {same}")
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "1",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(_free_port()),
            "-m",
            "qexpr",
            "train",
            "--device",
            args.device,
            "--epochs",
            "2",
            "--no-progress",
            "--json",
            "--checkpoint",
            str(Path(tmp) / "ddp.pt"),
        ]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=150, env=os.environ)
        print(f"torchrun 1 process: exit {proc.returncode}, {time.perf_counter() - start:.1f} s")
        print(proc.stdout.strip() or proc.stderr[-2000:])
        ok &= proc.returncode == 0
    print("device_check:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
