"""Data-parallel training under torchrun (2 CPU processes, gloo) equals one process."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from qexpr.nn import ReLinear, TrainConfig, train

SCRIPT = """
import sys, torch, torch.distributed as dist
from qexpr.nn import ReLinear, TrainConfig, train
cfg = TrainConfig.from_dict({config!r})
result = train(cfg)
if dist.get_rank() == 0:
    torch.save(result.model.state_dict(), sys.argv[1])
dist.destroy_process_group()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_process_ddp_equals_single_process(tmp_path):
    # batch 100 does not divide the 1437 training examples: the last batch splits 19/18.
    cfg = TrainConfig(
        widths=(16, 16),
        epochs=2,
        batch_size=100,
        relinear=ReLinear("sg+sw", gamma_g=1e-2, gamma_b=1e-2, clip=1.0),
    )
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(config=cfg.to_dict()))
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "OMP_NUM_THREADS": "1",
    }
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(_free_port()),
        str(script),
        str(tmp_path / "ddp.pt"),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ddp = torch.load(tmp_path / "ddp.pt")
    single = train(cfg).model.state_dict()
    for key, value in single.items():
        torch.testing.assert_close(ddp[key], value, rtol=0, atol=1e-6)
