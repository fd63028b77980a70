"""Safe encodings for what the store keeps: JSON for structure, raw little-endian
bytes for float arrays, text for labels. Nothing here can execute code."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

LABEL_KINDS = ("int", "float", "bool", "str")


def to_json(value: Any) -> str:
    """JSON text of ``value``, with NumPy scalars/arrays and NaN made portable."""
    return json.dumps(_plain(value), allow_nan=False, sort_keys=True)


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return _plain(value.to_dict())
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def label_kind(values: np.ndarray) -> str:
    """How labels are stored as text and read back: 'int', 'float', 'bool' or 'str'."""
    kind = np.asarray(values).dtype.kind
    return {"i": "int", "u": "int", "f": "float", "b": "bool"}.get(kind, "str")


def encode_labels(values: np.ndarray) -> list[str]:
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        return [repr(float(v)) for v in arr]
    return [str(v) for v in arr.tolist()]


def decode_labels(texts: list[str], kind: str) -> np.ndarray:
    if kind == "int":
        return np.asarray(texts, dtype=np.int64)
    if kind == "float":
        return np.asarray(texts, dtype=np.float64)
    if kind == "bool":
        return np.asarray([t == "True" for t in texts], dtype=bool)
    return np.asarray(texts, dtype=object)


def encode_floats(row: np.ndarray | None) -> bytes | None:
    return None if row is None else np.asarray(row, dtype="<f4").tobytes()


def stack_floats(blobs: Iterable[bytes]) -> np.ndarray:
    """Float rows (none missing) as one 2-D array, one row per blob."""
    return np.vstack([np.frombuffer(blob, dtype="<f4") for blob in blobs])
