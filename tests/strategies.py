"""Small reusable hypothesis strategies for qexpr networks."""

from __future__ import annotations

import pickle
from fractions import Fraction
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

import qexpr

small_rationals = st.builds(
    Fraction, st.integers(min_value=-7, max_value=7), st.integers(min_value=1, max_value=4)
)
kinds = st.sampled_from(sorted(qexpr.KINDS))


@st.composite
def widths(draw: st.DrawFn, max_depth: int = 3, max_width: int = 5, input_dim: int = 1) -> list:
    """``[input_dim, n1, ..., nL]`` with 1 <= L <= max_depth and widths in 1..max_width."""
    depth = draw(st.integers(min_value=1, max_value=max_depth))
    hidden = draw(st.lists(st.integers(1, max_width), min_size=depth, max_size=depth))
    return [input_dim, *hidden]


@st.composite
def networks(draw: st.DrawFn, max_depth: int = 3, max_width: int = 5) -> qexpr.Network:
    """A random exact one-input network of any kind (seeded through hypothesis)."""
    kind = draw(kinds)
    shape = draw(widths(max_depth=max_depth, max_width=max_width))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    return qexpr.random_network(kind, shape, seed=seed)


def rational_points(count: int = 8) -> st.SearchStrategy[list[Fraction]]:
    """Rational evaluation points in [-8, 8] with small denominators."""
    return st.lists(
        st.builds(Fraction, st.integers(-64, 64), st.integers(1, 8)), min_size=1, max_size=count
    )


def reference_relu_patterns(data: dict, x: np.ndarray) -> np.ndarray:
    """ReLU states (points × ReLU neurons) from a network *dict*, evaluated independently.

    This evaluator reads the qexpr-network/1 dictionary with plain Python loops over
    neurons, without any qexpr code, so tests can compare against it.
    """
    h = [np.asarray(x, dtype=float)]
    states = []
    for layer in data["layers"]:
        p = {
            k: np.array(v, dtype=object)
            for k, v in layer.items()
            if k not in ("neuron", "activation")
        }
        p = {k: np.vectorize(lambda s: float(Fraction(s)))(v) for k, v in p.items()}
        out = []
        for j in range(len(next(iter(p.values())))):
            if layer["neuron"] == "linear":
                z = sum(p["w"][j, i] * h[i] for i in range(len(h))) + p["b"][j]
            else:
                r = sum(p["wr"][j, i] * h[i] for i in range(len(h))) + p["br"][j]
                q = sum(p["wb"][j, i] * h[i] ** 2 for i in range(len(h))) + p["c"][j]
                if layer["neuron"] == "quadratic":
                    g = sum(p["wg"][j, i] * h[i] for i in range(len(h))) + p["bg"][j]
                    z = r * g + q
                else:
                    z = r + q
            activation = layer.get("activation", "identity")
            if activation == "relu":
                states.append(z > 0)
                z = np.maximum(z, 0.0)
            elif activation == "square":
                z = z * z
            out.append(z)
        h = out
    return np.array(states).T if states else np.zeros((len(x), 0), dtype=bool)


def modular_point(arch: tuple, seed: int, n_points: int, p: int) -> tuple:
    """``(spec, rng, theta, points)``: a polynomial network with random parameters mod p."""
    from qexpr.dimension._spec import make_spec

    spec = make_spec(*arch[:3], bias=arch[3])
    rng = np.random.default_rng(seed)
    theta = rng.integers(0, p, spec.parameters)
    return spec, rng, theta, rng.integers(0, p, (n_points, spec.widths[0]))


def fake_cifar(root: Path, n: int = 8) -> None:
    """A CIFAR-10 python-batch directory of random images (data_batch_1..5, test_batch)."""
    rng = np.random.default_rng(0)
    root.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"labels": rng.integers(0, 10, n).tolist(),
        }
        (root / name).write_bytes(pickle.dumps(batch))
