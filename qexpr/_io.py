"""Reading and writing the ``qexpr-network/1`` JSON format (see docs/network-format.md).

Exact weights are written as strings (``"-1/2"``), float weights as JSON floats, which read
back as their exact binary values. A reader refuses anything off the format with one line
that names the source, the layer, the key and what was expected; it reads only regular
files of at most :data:`MAX_FILE_BYTES` and JSON nested at most :data:`MAX_DEPTH` deep.
Files are written atomically (a temporary sibling renamed over the target, with the
permissions the umask gives a new file), so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from qexpr._errors import NetworkFormatError, QexprError, QexprTypeError, QexprValueError
from qexpr._network import ACTIVATIONS, LAYER_TYPES, Layer, Network
from qexpr._numbers import MAX_DIGITS, format_number, parse_number

__all__ = [
    "FORMAT",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "atomic_path",
    "check_path",
    "load_network",
    "network_from_bytes",
    "network_from_dict",
    "network_to_dict",
    "read_file_bytes",
    "save_network",
    "write_text_atomic",
]

FORMAT = "qexpr-network/1"

#: Deepest nesting of lists and objects a network may have (the format needs 5).
MAX_DEPTH = 32
#: Largest network file :func:`load_network` reads.
MAX_FILE_BYTES = 64 * 2**20


def _nesting_exceeds(data: object, limit: int) -> bool:
    """True when lists/dicts in ``data`` nest deeper than ``limit`` (iterative, no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


def _describe(value: object) -> str:
    try:
        text = json.dumps(value) if not isinstance(value, Fraction) else str(value)
    except (TypeError, ValueError, RecursionError):  # not JSON, or an int past 4300 digits
        text = f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


def _read_vector(value: object, where: str, length: int) -> list[Fraction]:
    if not isinstance(value, list):
        raise NetworkFormatError(
            f"{where}: expected a list of {length} numbers, got {_describe(value)}"
        )
    if len(value) != length:
        raise NetworkFormatError(f"{where}: expected {length} numbers, got {len(value)}")
    try:
        return [parse_number(v, f"{where}[{i}]") for i, v in enumerate(value)]
    except QexprError as exc:
        raise NetworkFormatError(str(exc)) from None


def _read_matrix(value: object, where: str, rows: int | None, cols: int) -> list[list[Fraction]]:
    expected = f"{'a list of rows' if rows is None else f'{rows} rows'} of {cols} numbers"
    if not isinstance(value, list) or (rows is None and not value):
        raise NetworkFormatError(f"{where}: expected {expected}, got {_describe(value)}")
    if rows is not None and len(value) != rows:
        raise NetworkFormatError(f"{where}: expected {expected}, got {len(value)} rows")
    return [_read_vector(row, f"{where}[{i}]", cols) for i, row in enumerate(value)]


def _read_layer(obj: object, where: str, in_dim: int) -> Layer:
    if not isinstance(obj, dict):
        raise NetworkFormatError(f"{where}: expected an object, got {_describe(obj)}")
    neuron = obj.get("neuron")
    if not isinstance(neuron, str) or neuron not in LAYER_TYPES:
        raise NetworkFormatError(
            f"{where}: key 'neuron': expected one of {', '.join(LAYER_TYPES)}, "
            f"got {_describe(neuron)}"
        )
    cls = LAYER_TYPES[neuron]
    allowed = {"neuron", "activation", *cls.keys}
    extra = sorted(set(obj) - allowed)
    if extra:
        raise NetworkFormatError(
            f"{where}: unexpected key {extra[0]!r} for a {neuron} layer "
            f"(expected {', '.join(sorted(allowed))})"
        )
    missing = [key for key in cls.keys if key not in obj]
    if missing:
        raise NetworkFormatError(f"{where}: missing key {missing[0]!r} for a {neuron} layer")
    activation = obj.get("activation", "identity")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise NetworkFormatError(
            f"{where}: key 'activation': expected one of {', '.join(ACTIVATIONS)}, "
            f"got {_describe(activation)}"
        )
    first = cls.keys[0]
    matrix = _read_matrix(obj[first], f"{where}: key {first!r}", None, in_dim)
    out_dim = len(matrix)
    weights: dict[str, Any] = {}
    for key in cls.keys:
        name = f"{where}: key {key!r}"
        if key in cls.neuron_type().matrices:
            weights[key] = _read_matrix(obj[key], name, out_dim, in_dim)
        else:
            weights[key] = _read_vector(obj[key], name, out_dim)
    arrays = {key: np.array(value, dtype=object) for key, value in weights.items()}
    return cls(activation=activation, **arrays)


def network_from_dict(data: object, source: str = "network") -> Network:
    """Build a :class:`Network` from a parsed ``qexpr-network/1`` object.

    Parameters
    ----------
    data
        The decoded JSON object.
    source
        Name used at the start of error messages (a file name, say).

    Raises
    ------
    NetworkFormatError
        One line naming the source, layer, key and what was expected.
    """
    if _nesting_exceeds(data, MAX_DEPTH):
        raise NetworkFormatError(f"{source}: nested deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict):
        raise NetworkFormatError(f"{source}: expected a JSON object, got {_describe(data)}")
    if data.get("format") != FORMAT:
        raise NetworkFormatError(
            f"{source}: key 'format': expected {FORMAT!r}, got {_describe(data.get('format'))}"
        )
    extra = sorted(set(data) - {"format", "input_dim", "layers"})
    if extra:
        raise NetworkFormatError(
            f"{source}: unexpected key {extra[0]!r} (expected format, input_dim, layers)"
        )
    input_dim = data.get("input_dim")
    if isinstance(input_dim, bool) or not isinstance(input_dim, int) or input_dim < 1:
        raise NetworkFormatError(
            f"{source}: key 'input_dim': expected a positive integer, got {_describe(input_dim)}"
        )
    layers_data = data.get("layers")
    if not isinstance(layers_data, list) or not layers_data:
        raise NetworkFormatError(
            f"{source}: key 'layers': expected a non-empty list, got {_describe(layers_data)}"
        )
    layers = []
    width = input_dim
    for k, obj in enumerate(layers_data):
        layer = _read_layer(obj, f"{source}: layer {k}", width)
        layers.append(layer)
        width = layer.out_dim
    return Network(input_dim, tuple(layers))


def _write_array(array: np.ndarray) -> Any:
    if array.dtype == object:
        return np.vectorize(format_number, otypes=[object])(array).tolist()
    return array.tolist()


def network_to_dict(net: Network) -> dict[str, Any]:
    """The ``qexpr-network/1`` object of ``net`` (exact weights as strings, floats as floats)."""
    layers = []
    for layer in net.layers:
        obj: dict[str, Any] = {"neuron": layer.neuron, "activation": layer.activation}
        obj.update({key: _write_array(value) for key, value in layer.params.items()})
        layers.append(obj)
    return {"format": FORMAT, "input_dim": net.input_dim, "layers": layers}


def check_path(path: object, name: str = "path") -> Path:
    """``path`` as a Path; :class:`~qexpr.QexprTypeError` unless a str or PathLike."""
    if isinstance(path, bytes) or not isinstance(path, str | os.PathLike):
        raise QexprTypeError(
            f"{name}: expected a file name (str or Path), got {type(path).__name__}"
        )
    return Path(path)


def read_file_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file of at most ``MAX_FILE_BYTES`` (64 MiB); never a FIFO or a
    device, which could block. :class:`NetworkFormatError` naming the file otherwise."""
    path = check_path(path)
    source = str(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise NetworkFormatError(f"{source}: cannot read the file ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise NetworkFormatError(f"{source}: not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise NetworkFormatError(
            f"{source}: {info.st_size} bytes, more than the {MAX_FILE_BYTES} allowed"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise NetworkFormatError(f"{source}: cannot read the file ({exc.strerror})") from None


def network_from_bytes(data: bytes, source: str = "network") -> Network:
    """Parse the bytes of a network file (UTF-8 JSON, at most ``MAX_FILE_BYTES``).

    ``source`` names the input in error messages (a file name, ``<stdin>``).
    """
    if len(data) > MAX_FILE_BYTES:
        raise NetworkFormatError(f"{source}: more than the {MAX_FILE_BYTES} bytes allowed")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NetworkFormatError(f"{source}: expected UTF-8 JSON text") from None
    try:
        parsed = json.loads(text)  # NaN/Infinity become floats, refused with their location
    except json.JSONDecodeError as exc:
        raise NetworkFormatError(
            f"{source}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise NetworkFormatError(f"{source}: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # an integer literal past Python's 4300-digit conversion limit
        raise NetworkFormatError(f"{source}: a number has more than {MAX_DIGITS} digits") from None
    return network_from_dict(parsed, source)


def load_network(path: str | os.PathLike[str]) -> Network:
    """Read a network file; raise :class:`NetworkFormatError` naming the file on bad input.

    Only a regular file of at most ``MAX_FILE_BYTES`` (64 MiB) is read (never a FIFO or a
    device, which could block); a ``path`` that is not a str or Path is a
    :class:`~qexpr.QexprTypeError`.
    """
    return network_from_bytes(read_file_bytes(path), str(check_path(path)))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary sibling of ``path`` (same suffix) that replaces ``path`` when the block ends.

    Write to the yielded path; on success it gets the permissions a new file gets under
    the umask and is renamed over ``path`` (atomic on POSIX); on an exception it is removed
    and ``path`` is untouched.
    """
    target = Path(path)
    handle, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix
    )
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, see :func:`atomic_path`."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def save_network(net: Network, path: str | os.PathLike[str]) -> None:
    """Write ``net`` as a ``qexpr-network/1`` file (indented JSON), atomically.

    Raises :class:`~qexpr.QexprTypeError` for a ``net`` that is not a :class:`Network` or a ``path``
    that is not a str or Path, and :class:`~qexpr.QexprValueError` for a directory or a path that
    cannot be written.
    """
    if not isinstance(net, Network):
        raise QexprTypeError(f"net: expected a qexpr Network, got {type(net).__name__}")
    target = check_path(path)
    if target.is_dir():
        raise QexprValueError(f"path: {str(target)!r} is a directory, expected a file name")
    text = json.dumps(network_to_dict(net), indent=1) + "\n"
    try:
        write_text_atomic(target, text)
    except OSError as exc:
        raise QexprValueError(f"path: cannot write {str(target)!r} ({exc.strerror})") from None
