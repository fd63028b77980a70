"""Computations the pages need that the library does not offer yet.

Each is a small pure function with no Streamlit in it, so it can move into
``mlstrat`` unchanged (the target module is named in each docstring); the
pages then import it from there and this file shrinks.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from mlstrat.diagnose import Diagnosis, diagnose, diagnose_predictions
from mlstrat.store import SPLITS

#: a predictions upload larger than this is refused before parsing
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
#: and one with more rows than this after parsing
MAX_UPLOAD_ROWS = 2_000_000

_SPLIT_ALIASES = {"train": "train", "training": "train", "train_dev": "train_dev",
                  "train-dev": "train_dev", "traindev": "train_dev", "dev": "dev",
                  "validation": "dev", "val": "dev", "test": "test"}


def diagnosis_of_run(run: Any) -> tuple[Diagnosis, str]:
    """The run's diagnosis: the stored one, else computed from its errors and sizes.

    Belongs in ``mlstrat.diagnose`` (e.g. ``diagnose_run(run)``): the store
    may not import diagnose, so the rebuild has to live on the method floor.

    Returns
    -------
    (Diagnosis, source) with source ``'stored'`` or ``'computed'``.

    Raises
    ------
    ValueError
        When nothing is stored and the run has no training error.
    """
    if run.diagnosis:
        try:
            return Diagnosis.from_dict(run.diagnosis), "stored"
        except (KeyError, TypeError, ValueError):
            pass  # an older or foreign record: recompute from the numbers
    if run.errors.get("train") is None:
        stored = sorted(run.errors) or "none"
        raise ValueError(
            f"Run #{run.id} '{run.name}' has no training error, so it cannot be "
            f"diagnosed (splits with an error: {stored}). Log the 'train' split "
            "(its error or its predictions) with the run."
        )
    d = diagnose(human=run.human_error, train=run.errors["train"],
                 train_dev=run.errors.get("train_dev"), dev=run.errors.get("dev"),
                 test=run.errors.get("test"),
                 sizes={k: v for k, v in run.sizes.items() if k in SPLITS})
    return d, "computed"


def early_stopping_epoch(history: pd.DataFrame, monitor: str | None = None) -> int | None:
    """The epoch early stopping keeps: the lowest ``monitor`` (default: val_loss,
    else val_error). None if the history has no validation column.

    Belongs in ``mlstrat.curves`` (or next to the callbacks in ``mlstrat.nn``).
    """
    cols = [monitor] if monitor else ["val_loss", "val_error"]
    for col in cols:
        if col in history.columns and history[col].notna().any():
            row = history.loc[history[col].idxmin()]
            return int(row["epoch"])
    return None


def read_predictions_csv(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES,
                         max_rows: int = MAX_UPLOAD_ROWS) -> dict[str, pd.DataFrame]:
    """Parse and check a predictions CSV; return ``{split: frame}`` for ``log_run``.

    Columns: ``split`` (train, train_dev, dev, test), ``y_true``, ``y_pred``,
    optional ``id`` and ``proba_<class>``; other columns (features) are ignored
    because the store keeps no features.

    Belongs in ``mlstrat.store`` (a ``read_predictions`` next to ``log_run``)
    so the CLI can share it.

    Raises
    ------
    ValueError
        Saying what is wrong (size, columns, split names, empty labels, probabilities).
    """
    if len(data) > max_bytes:
        raise ValueError(f"The file is {len(data) / 2**20:.0f} MB; the limit is "
                         f"{max_bytes / 2**20:.0f} MB. Upload a sample or split the file.")
    frame = _parse_csv(data)
    if len(frame) > max_rows:
        raise ValueError(f"The file has {len(frame):,} rows; the limit is {max_rows:,}. "
                         "Upload a sample or split the file.")
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in ("split", "y_true", "y_pred") if c not in frame.columns]
    if missing:
        raise ValueError(f"Missing column(s) {missing}. A predictions CSV needs the "
                         "columns split, y_true, y_pred (optional: id, proba_<class>). "
                         f"Found: {list(frame.columns)[:20]}.")
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


def diagnose_uploaded(preds: dict[str, pd.DataFrame],
                      human_error: float | None) -> Diagnosis | None:
    """Diagnosis of uploaded predictions; None without a 'train' split."""
    if "train" not in preds:
        return None
    return diagnose_predictions(
        {s: (f["y_true"].to_numpy(), f["y_pred"].to_numpy()) for s, f in preds.items()},
        human=human_error)


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


def _canonical_splits(column: pd.Series) -> pd.Series:
    names = column.astype("string").str.strip().str.lower()
    mapped = names.map(_SPLIT_ALIASES)
    bad = names[mapped.isna()]
    if len(bad):
        shown = sorted({str(b) for b in bad.unique()[:5]})
        raise ValueError(f"Unknown split name(s) {shown} in {len(bad):,} row(s) (first: "
                         f"row {int(bad.index[0]) + 2} of the file). Valid: {list(SPLITS)}.")
    return mapped.astype(str)


def _check_labels(frame: pd.DataFrame) -> None:
    for col in ("y_true", "y_pred"):
        empty = frame[col].isna()
        if empty.any():
            raise ValueError(f"Column '{col}' is empty in {int(empty.sum()):,} row(s) "
                             f"(first: row {int(np.flatnonzero(empty)[0]) + 2} of the file). "
                             "Every row needs a label and a prediction.")
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
            raise ValueError(f"Column '{col}' must hold probabilities in [0, 1]; "
                             f"{int(bad.sum()):,} row(s) do not (first: row "
                             f"{int(np.flatnonzero(bad)[0]) + 2} of the file).")
        frame[col] = values.astype(float)


#: columns of a features CSV that are not features
NON_FEATURES = ("split", "id", "y_true", "y_pred", "label", "weight")


def read_features_csv(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES,
                      max_rows: int = MAX_UPLOAD_ROWS) -> tuple[pd.DataFrame, list[str]]:
    """Parse a CSV with a ``split`` column and feature columns for the
    distribution checks; return the frame (splits canonical) and the feature names.

    Belongs in ``mlstrat.splits`` (a reader for ``compare_distributions``).
    """
    if len(data) > max_bytes:
        raise ValueError(f"The file is {len(data) / 2**20:.0f} MB; the limit is "
                         f"{max_bytes / 2**20:.0f} MB. Upload a sample.")
    frame = _parse_csv(data)
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) > max_rows:
        raise ValueError(f"The file has {len(frame):,} rows; the limit is {max_rows:,}.")
    if "split" not in frame.columns:
        raise ValueError("Missing column 'split' (train, train_dev, dev, test). "
                         f"Found: {list(frame.columns)[:20]}.")
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


def learning_curve_from_dict(data: dict[str, Any]):
    """Rebuild a ``LearningCurve`` saved with ``to_dict()`` (e.g. in a run's config).

    Belongs in ``mlstrat.curves`` as ``LearningCurve.from_dict`` (and
    ``PowerLawFit.from_dict``), like ``Diagnosis.from_dict``.
    """
    from mlstrat.curves import LearningCurve, PowerLawFit

    fields = {k: v for k, v in data.items() if k in LearningCurve.__dataclass_fields__}
    fit = fields.pop("fit", None)
    if fit:
        fit = PowerLawFit(**{k: (float("nan") if v is None else v) for k, v in fit.items()
                             if k in PowerLawFit.__dataclass_fields__})
    return LearningCurve(**fields, fit=fit or None)

