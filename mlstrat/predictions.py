"""Reading a predictions file (split, y_true, y_pred, optional id and
``proba_<class>``) or a features file (split + feature columns), checked row by
row, for the ``diagnose`` command, the dashboard's upload page and
``Project.log_run``. Every problem is reported with its column and file row.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from mlstrat._files import MAX_UPLOAD_BYTES, check_upload
from mlstrat._text import quote
from mlstrat.diagnosis import Diagnosis, diagnose_predictions
from mlstrat.metrics import LabelMismatchError, align_labels
from mlstrat.regression import diagnose_regression
from mlstrat.store import SPLITS

#: a predictions upload with more rows than this is refused after parsing (one larger
#: than MAX_UPLOAD_BYTES, 100 MB, is refused before); every dashboard upload first
#: passes :func:`check_upload` (byte cap, and the XLSX caps of :mod:`mlstrat._files`)
MAX_UPLOAD_ROWS = 2_000_000

_SPLIT_ALIASES = {"train": "train", "training": "train", "train_dev": "train_dev",
                  "train-dev": "train_dev", "traindev": "train_dev", "dev": "dev",
                  "validation": "dev", "val": "dev", "test": "test"}


def read_predictions_csv(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES,
                         max_rows: int = MAX_UPLOAD_ROWS) -> dict[str, pd.DataFrame]:
    """Parse and check a predictions CSV; return ``{split: frame}`` for ``log_run``.

    Columns: ``split`` (train, train_dev, dev, test), ``y_true``, ``y_pred``,
    optional ``id`` and ``proba_<class>``; other columns (features) are ignored
    because the store keeps no features.

    Raises
    ------
    ValueError
        Saying what is wrong (size, columns, split names, empty labels, probabilities).
    """
    check_upload(data, "The predictions file", max_bytes=max_bytes)
    frame = _parse_csv(data)
    if len(frame) > max_rows:
        raise ValueError(f"The file has {len(frame):,} rows; the limit is {max_rows:,}. "
                         "Upload a sample or split the file.")
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in ("split", "y_true", "y_pred") if c not in frame.columns]
    if missing:
        raise ValueError(f"Missing column(s) {missing}. A predictions CSV needs the "
                         "columns split, y_true, y_pred (optional: id, proba_<class>). "
                         f"Found: {_names(frame.columns)}.")
    if frame.empty:
        raise ValueError("The file has a header but no rows.")
    frame["split"] = _canonical_splits(frame["split"])
    _check_labels(frame)
    proba = [c for c in frame.columns if c.startswith("proba_")]
    _check_proba(frame, proba)
    keep = [c for c in ("id", "y_true", "y_pred") if c in frame.columns] + proba
    out = {}
    for split in SPLITS:
        part = frame.loc[frame["split"] == split, keep].reset_index(drop=True)
        if len(part):
            out[split] = part
    return out


def _parse_csv(data: bytes) -> pd.DataFrame:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("The file is not UTF-8 text; save it as a UTF-8 CSV.") from None
    if not text.strip():
        raise ValueError("The file is empty.")
    try:
        return pd.read_csv(io.StringIO(text), dtype={"id": "string", "split": "string"},
                           low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"The file is not a readable CSV: {first}") from None


def _names(columns) -> str:
    """Column names for a message, each quoted short."""
    names = [quote(str(c)) for c in list(columns)[:20]]
    return "[" + ", ".join(names) + (", ..." if len(columns) > 20 else "") + "]"


def _canonical_splits(column: pd.Series) -> pd.Series:
    names = column.astype("string").str.strip().str.lower()
    mapped = names.map(_SPLIT_ALIASES)
    bad = names[mapped.isna()]
    if len(bad):
        shown = ", ".join(quote(str(b)) for b in sorted({str(b) for b in bad.unique()[:5]}))
        raise ValueError(f"Unknown split name(s) [{shown}] in {len(bad):,} row(s) (first: "
                         f"row {int(bad.index[0]) + 2} of the file). Valid: {list(SPLITS)}.")
    return mapped.astype(str)


def _check_labels(frame: pd.DataFrame) -> None:
    for col in ("y_true", "y_pred"):
        empty = frame[col].isna()
        if empty.any():
            raise ValueError(f"Column '{col}' is empty in {int(empty.sum()):,} row(s) "
                             f"(first: row {int(np.flatnonzero(empty)[0]) + 2} of the file). "
                             "Every row needs a label and a prediction.")
    try:
        y_true, y_pred = align_labels(frame["y_true"].to_numpy(), frame["y_pred"].to_numpy())
    except LabelMismatchError as exc:
        raise ValueError(f"{exc} Fix the file's y_true or y_pred column.") from None
    frame["y_true"], frame["y_pred"] = y_true, y_pred
    kinds = {frame["y_true"].dtype.kind, frame["y_pred"].dtype.kind}
    if not kinds <= {"i", "u", "b"}:  # mixed or text: compare as text
        for col in ("y_true", "y_pred"):
            values = frame[col]
            if values.dtype.kind == "f" and (values % 1 == 0).all():
                values = values.astype(np.int64)
            frame[col] = values.astype(str)


def _check_proba(frame: pd.DataFrame, columns: list[str]) -> None:
    for col in columns:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() | (values < 0) | (values > 1)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(f"Column {quote(col)} must hold probabilities in [0, 1]; "
                             f"{int(bad.sum()):,} row(s) do not (first: row {first + 2} of "
                             f"the file, value {quote(frame[col].iloc[first])}).")
        frame[col] = values.astype(float)


#: columns of a features CSV that are not features
NON_FEATURES = ("split", "id", "y_true", "y_pred", "label", "weight")


def read_features_csv(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES,
                      max_rows: int = MAX_UPLOAD_ROWS) -> tuple[pd.DataFrame, list[str]]:
    """Parse a CSV with a ``split`` column and feature columns for the
    distribution checks; return the frame (splits canonical) and the feature names.
    """
    check_upload(data, "The features file", max_bytes=max_bytes)
    frame = _parse_csv(data)
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) > max_rows:
        raise ValueError(f"The file has {len(frame):,} rows; the limit is {max_rows:,}.")
    if "split" not in frame.columns:
        raise ValueError("Missing column 'split' (train, train_dev, dev, test). "
                         f"Found: {_names(frame.columns)}.")
    frame["split"] = _canonical_splits(frame["split"])
    features = [c for c in frame.columns
                if c not in NON_FEATURES and not c.startswith("proba_")]
    if not features:
        raise ValueError("No feature columns: besides split (and id, y_true, y_pred, "
                         "label, proba_*) the file needs at least one column to compare.")
    return frame, features


def sample_per_split(frame: pd.DataFrame, splits, *, max_rows: int = 20_000,
                     random_state: int = 0) -> pd.DataFrame:
    """The rows of ``splits``, at most ``max_rows`` of each (a seeded sample),
    so an adversarial check on a big upload stays interactive."""
    parts = []
    for split in splits:
        part = frame[frame["split"] == split]
        if len(part) > max_rows:
            part = part.sample(max_rows, random_state=random_state)
        parts.append(part)
    return pd.concat(parts)


def read_predictions(source: str | Path | bytes, **limits) -> dict[str, pd.DataFrame]:
    """Read a predictions CSV from a path or bytes; ``{split: frame}``.

    Examples
    --------
    >>> preds = read_predictions(b"split,y_true,y_pred\\ntrain,1,1\\ndev,0,1\\n")
    >>> sorted(preds), preds["dev"]["y_pred"].tolist()
    (['dev', 'train'], [1])
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"No predictions file at {path}.")
        source = path.read_bytes()
    return read_predictions_csv(source, **limits)


def is_regression(preds: Mapping[str, pd.DataFrame]) -> bool:
    """True when the labels are numbers with fractional values (a regression target).

    Examples
    --------
    >>> is_regression({"dev": pd.DataFrame({"y_true": [1.5, 2.0], "y_pred": [1.4, 2.2]})})
    True
    >>> is_regression({"dev": pd.DataFrame({"y_true": [0, 1], "y_pred": [1, 1]})})
    False
    """
    for frame in preds.values():
        y = pd.to_numeric(frame["y_true"], errors="coerce").to_numpy(dtype=float)
        if np.isnan(y).any():
            return False
        if not np.all(np.mod(y, 1) == 0):
            return True
    return False


def diagnose_frames(preds: dict[str, pd.DataFrame],
                    human_error: float | Mapping[str, float] | None, *,
                    task: str = "auto") -> Diagnosis | None:
    """Diagnosis of predictions read by :func:`read_predictions`; None without a
    'train' split (the ladder starts there).

    ``task`` 'auto' takes labels with fractional values as a regression, whose
    ladder is in the target's units (``diagnose_regression``: RMSE, and
    ``human_error`` an RMSE too); 'classification' or 'regression' force it.
    """
    if task not in ("auto", "classification", "regression"):
        raise ValueError(f"The 'task' parameter must be 'auto', 'classification' or "
                         f"'regression'. Got {task!r}.")
    if "train" not in preds:
        return None
    if task == "regression" or (task == "auto" and is_regression(preds)):
        pairs = {}
        for s, f in preds.items():
            yt = pd.to_numeric(f["y_true"], errors="coerce").to_numpy(dtype=float)
            yp = pd.to_numeric(f["y_pred"], errors="coerce").to_numpy(dtype=float)
            if np.isnan(yt).any() or np.isnan(yp).any():
                raise ValueError(f"Split {s!r}: a regression needs numbers in y_true and "
                                 "y_pred (found text or empty cells).")
            pairs[s] = (yt, yp)
        return diagnose_regression(pairs, human=human_error)
    return diagnose_predictions(
        {s: (f["y_true"].to_numpy(), f["y_pred"].to_numpy()) for s, f in preds.items()},
        human=human_error)
