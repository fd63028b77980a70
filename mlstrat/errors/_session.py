"""Error-analysis sessions: sample the misclassified dev examples, then tag them.

A session keeps every example of the evaluated split (for slices and mislabel
candidates), marks a seeded sample of the misclassified ones for manual review,
and holds the user's categories, tags and notes in the project store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from mlstrat.store import Project
from mlstrat.store._codec import encode_floats, encode_labels, label_kind
from mlstrat.store._sessions import RESERVED_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    from mlstrat.errors._mislabels import MislabelReport
    from mlstrat.errors._sheets import ImportReport
    from mlstrat.errors._slices import SliceReport
    from mlstrat.errors._summary import ErrorSummary

BUILTIN_CATEGORY = "incorrectly labelled"
PAYLOAD_KINDS = ("text", "image", "path")
MAX_IMAGE_BYTES = 16 * 1024 * 1024


class Session:
    """One error-analysis session in a project store.

    Create one with :func:`new_session`, reopen one with :func:`open_session`.
    Every tag, note or category change is written at once, in its own
    transaction, and recorded in the session's audit log with who and when.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from mlstrat.store import open_project
    >>> project = open_project(tempfile.mkdtemp())
    >>> preds = pd.DataFrame({"id": ["a", "b", "c", "d"], "y_true": [0, 1, 1, 0],
    ...                       "y_pred": [1, 1, 0, 0]})
    >>> s = new_session(project, preds, name="demo")
    >>> s.sample_ids()
    ['a', 'c']
    >>> s.add_category("blurry", by="ana")
    >>> s.tag("a", "blurry", by="ana")
    True
    >>> s.tag_table()[["id", "blurry"]].to_dict("list")
    {'id': ['a', 'c'], 'blurry': [True, False]}
    """

    def __init__(self, project: Project, session_id: int) -> None:
        self.project = project
        self.id = int(session_id)

    # -- description --------------------------------------------------------
    @property
    def record(self) -> dict[str, Any]:
        """The stored description: name, sizes, run, sampling settings."""
        return self.project.get_error_session(self.id)

    @property
    def name(self) -> str:
        return self.record["name"]

    def __repr__(self) -> str:
        rec = self.record
        return (f"Session(id={self.id}, name={rec['name']!r}, sampled={rec['n_sampled']} of "
                f"{rec['n_errors']} errors in {rec['n_examples']} examples)")

    def sample_ids(self) -> list[str]:
        """Ids of the sampled errors in review order."""
        return self.project.error_sample_ids(self.id)

    def examples(self, *, sampled_only: bool = True) -> pd.DataFrame:
        """Stored examples (see :meth:`Project.error_examples`)."""
        return self.project.error_examples(self.id, sampled_only=sampled_only)

    def features(self, *, sampled_only: bool = False) -> pd.DataFrame:
        """Features/metadata as columns, one row per example (same order as
        :meth:`examples`), with the example id as index."""
        ex = self.examples(sampled_only=sampled_only)
        return _features_frame(ex)

    def payload(self, example_id: str) -> str | np.ndarray | None:
        """What to show for an example: text, a path (str) or an image array."""
        stored = self.project.error_payload(self.id, str(example_id))
        return None if stored is None else decode_payload(*stored)

    def payload_kind(self) -> str | None:
        return self.record["payload_kind"]

    # -- categories ----------------------------------------------------------
    def categories(self) -> list[str]:
        """Active category names, the built-in 'incorrectly labelled' first."""
        return self.project.error_categories(self.id)["name"].tolist()

    def label_category(self) -> str:
        """The current name of the built-in 'incorrectly labelled' category."""
        cats = self.project.error_categories(self.id)
        return str(cats.loc[cats["builtin"], "name"].iloc[0])

    def add_category(self, name: str, *, by: str | None = None) -> None:
        _check_not_feature(self, name)
        self.project.add_error_category(self.id, name, by=by)

    def rename_category(self, old: str, new: str, *, by: str | None = None) -> None:
        _check_not_feature(self, new)
        self.project.rename_error_category(self.id, old, new, by=by)

    def merge_categories(self, source: str, into: str, *, by: str | None = None) -> int:
        """Fold ``source`` into ``into`` (tags kept); returns tags added to ``into``."""
        return self.project.merge_error_categories(self.id, source, into, by=by)

    # -- tags ----------------------------------------------------------------
    def tag(self, example_id: str, category: str, value: bool = True, *,
            by: str | None = None) -> bool:
        """Tag (or with ``value=False`` untag) one example; returns True if it changed."""
        return self.project.set_error_tag(self.id, str(example_id), category, value, by=by)

    def untag(self, example_id: str, category: str, *, by: str | None = None) -> bool:
        return self.tag(example_id, category, False, by=by)

    def set_note(self, example_id: str, note: str, *, by: str | None = None) -> bool:
        return self.project.set_error_note(self.id, str(example_id), note, by=by)

    def tag_table(self, *, with_features: bool = False) -> pd.DataFrame:
        """The review sheet: one row per sampled error in review order with id,
        y_true, y_pred, [features], one bool column per category, and note."""
        return tag_table(self.project.error_snapshot(self.id), with_features=with_features)

    def history(self) -> pd.DataFrame:
        """The audit log: every change with revision, time, who, action, values."""
        return self.project.error_audit(self.id)

    # -- analysis --------------------------------------------------------------
    def summary(self, *, confidence: float = 0.95,
                label_share_threshold: float = 0.2) -> ErrorSummary:
        from mlstrat.errors._summary import summarize

        return summarize(self, confidence=confidence,
                         label_share_threshold=label_share_threshold)

    def slices(self, **kwargs: Any) -> SliceReport:
        from mlstrat.errors._slices import session_slices

        return session_slices(self, **kwargs)

    def mislabel_candidates(self, **kwargs: Any) -> MislabelReport:
        from mlstrat.errors._mislabels import session_mislabels

        return session_mislabels(self, **kwargs)

    def export(self, path: str | Path) -> Path:
        """Write the review sheet to ``.xlsx`` or ``.csv`` (by the suffix)."""
        from mlstrat.errors._sheets import export_session

        return export_session(self, path)

    def import_tags(self, path: str | Path, *, create_categories: bool = False,
                    by: str | None = None) -> ImportReport:
        """Read a tagged ``.xlsx``/``.csv`` back; all of it is applied or none."""
        from mlstrat.errors._sheets import import_tags

        return import_tags(self, path, create_categories=create_categories, by=by)


# -- creating and opening sessions ------------------------------------------------
def new_session(
    project: Project,
    predictions: pd.DataFrame | int | str,
    *,
    name: str | None = None,
    n: int | None = 100,
    stratify: bool = False,
    random_state: int | None = 0,
    features: pd.DataFrame | Sequence[str] | None = None,
    payload: Any = None,
    payload_kind: Literal["auto", "text", "image", "path"] = "auto",
    categories: Sequence[str] = (BUILTIN_CATEGORY,),
    split: str = "dev",
    by: str | None = None,
) -> Session:
    """Start an error-analysis session from dev predictions.

    Parameters
    ----------
    project : Project
        The project store the session lives in.
    predictions : DataFrame or int or str
        A frame with columns ``id``, ``y_true``, ``y_pred`` and optional
        ``proba_<class>`` columns, or the id (or name) of a stored run, whose
        ``split`` predictions are read.
    name : str, optional
        A label for the session (default: "errors of run N" or "errors").
    n : int or None, default=100
        How many misclassified examples to sample for review; ``None`` takes all.
    stratify : bool, default=False
        Sample the errors proportionally to their true class.
    random_state : int or None, default=0
        Seed of the sample (and of its review order).
    features : DataFrame or list of str, optional
        Features or metadata for slices: names of columns of ``predictions``, or a
        frame with one row per prediction (aligned by an ``id`` column if it has
        one, else by position).
    payload : str or sequence or ndarray, optional
        What a reviewer looks at: a column name of ``predictions`` or one item per
        prediction: texts, image paths, or images (an array of shape (n, h, w) or
        (n, h, w, c)). Images are stored as raw bytes with shape and dtype (never
        pickled).
    payload_kind : {'auto', 'text', 'image', 'path'}, default='auto'
        'auto' takes arrays as images and strings as text.
    categories : sequence of str, default=("incorrectly labelled",)
        Initial categories; the first is the built-in label-error category.
    split : str, default='dev'
        Which stored split of a run to read.
    by : str, optional
        Who creates the session (default: the login name).

    Returns
    -------
    Session
    """
    source_run = None
    if isinstance(predictions, (int, np.integer, str)):
        run = project.get_run(int(predictions) if isinstance(predictions, np.integer)
                              else predictions)
        source_run = run.id
        frame = project.run_predictions(run.id, split).drop(columns="split")
        if frame.empty:
            raise ValueError(f"Run {run.id} ({run.name!r}) has no stored '{split}' predictions."
                             " Log them with project.log_run(..., predictions={'dev': ...}).")
    elif isinstance(predictions, pd.DataFrame):
        frame = predictions.reset_index(drop=True)
    else:
        raise TypeError("The 'predictions' parameter must be a DataFrame or a run id. "
                        f"Got {type(predictions).__name__}.")
    frame = _check_frame(frame)
    if n is not None and (not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"The 'n' parameter must be an int >= 1 or None (all). Got {n!r}.")
    cats = list(categories) or [BUILTIN_CATEGORY]
    feats = _features(frame, features)
    clash = [] if feats is None else [c for c in map(str, feats.columns)
                                      if c.casefold() in RESERVED_COLUMNS]
    if clash:
        raise ValueError(f"Feature column(s) {clash} take a name the review sheet uses; "
                         f"rename them (reserved: {list(RESERVED_COLUMNS)}).")
    for c in cats:
        if feats is not None and str(c) in feats.columns:
            raise ValueError(f"Category {c!r} has the name of a feature column; rename one.")
    y_true, y_pred, kind = _encode_pair(frame["y_true"].to_numpy(), frame["y_pred"].to_numpy())
    is_error = np.asarray(y_true) != np.asarray(y_pred)
    if not is_error.any():
        raise ValueError("No misclassified example in these predictions: nothing to review.")
    rank = sample_errors(is_error, frame["y_true"].to_numpy(), n=n, stratify=stratify,
                         random_state=random_state)
    proba_cols = [c for c in frame.columns if str(c).startswith("proba_")]
    proba = frame[proba_cols].to_numpy(dtype=np.float32) if proba_cols else None
    stored = pd.DataFrame({
        "id": frame["id"].tolist(), "position": np.arange(len(frame)),
        "y_true": y_true, "y_pred": y_pred, "is_error": is_error,
        "sample_rank": pd.array(rank, dtype="Int64"),
        "proba": [None] * len(frame) if proba is None else [encode_floats(r) for r in proba],
        "features": [None] * len(frame) if feats is None else features_json(feats),
    })
    kind_p, payloads = _payloads(frame, payload, payload_kind)
    settings = {"n": n, "stratify": bool(stratify), "random_state": random_state,
                "features": None if feats is None else list(map(str, feats.columns))}
    sid = project.create_error_session(
        name or (f"errors of run {source_run}" if source_run else "errors"), stored,
        label_kind=kind, classes=[str(c)[6:] for c in proba_cols] or None,
        categories=cats, settings=settings, run_id=source_run,
        split=split if source_run else None, payloads=payloads, payload_kind=kind_p, by=by,
    )
    return Session(project, sid)


def open_session(project: Project, session: int | str) -> Session:
    """Reopen a stored session by id or name."""
    return Session(project, project.get_error_session(session)["id"])


def list_sessions(project: Project) -> pd.DataFrame:
    """One row per session in the project."""
    return project.error_sessions()


def sample_errors(is_error: np.ndarray, y_true: np.ndarray, *, n: int | None,
                  stratify: bool = False, random_state: int | None = 0) -> np.ndarray:
    """Review rank (0, 1, ...) of each sampled error, NaN for the other examples.

    Returns an array of float with the review rank of sampled errors and NaN for
    the rest. With ``stratify``, each true class gets a share of the sample
    proportional to its share of the errors (largest remainders).

    Examples
    --------
    >>> r = sample_errors(np.array([1, 0, 1, 1], bool), np.array([0, 0, 1, 1]), n=2)
    >>> int(np.isnan(r).sum())
    2
    """
    rng = np.random.default_rng(random_state)
    err = np.flatnonzero(is_error)
    size = len(err) if n is None else min(int(n), len(err))
    if stratify and size < len(err):
        classes, counts = np.unique(np.asarray(y_true)[err].astype(str), return_counts=True)
        quota = counts * size / len(err)
        take = np.floor(quota).astype(int)
        order = np.argsort(-(quota - take), kind="stable")
        take[order[: size - take.sum()]] += 1
        labels = np.asarray(y_true)[err].astype(str)
        chosen = np.concatenate([
            rng.choice(err[labels == cls], size=k, replace=False)
            for cls, k in zip(classes, take, strict=True)
        ])
    else:
        chosen = rng.choice(err, size=size, replace=False)
    chosen = rng.permutation(chosen)
    rank = np.full(len(is_error), np.nan)
    rank[chosen] = np.arange(len(chosen))
    return rank


# -- helpers ------------------------------------------------------------------------
def _check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("y_true", "y_pred") if c not in frame.columns]
    if missing:
        raise ValueError(f"The predictions lack column(s) {missing}; they need id, y_true, "
                         f"y_pred (and optional proba_<class>). Got {list(frame.columns)}.")
    if len(frame) == 0:
        raise ValueError("The predictions are empty.")
    frame = frame.copy()
    if "id" not in frame.columns:
        frame.insert(0, "id", np.arange(len(frame)))
    if frame["id"].isna().any():
        row = int(np.flatnonzero(frame["id"].isna().to_numpy())[0])
        raise ValueError(f"The 'id' column is empty at row {row}. Every example needs an id.")
    frame["id"] = frame["id"].astype(str).str.strip()
    dup = frame["id"].duplicated()
    if dup.any():
        first = frame["id"][dup].iloc[0]
        raise ValueError(f"Duplicate example id {first!r} ({int(dup.sum())} duplicates). "
                         "Ids must be unique.")
    for col in ("y_true", "y_pred"):
        if frame[col].isna().any():
            row = int(np.flatnonzero(frame[col].isna().to_numpy())[0])
            raise ValueError(f"The '{col}' column is empty at row {row}.")
    return frame


def _encode_pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[list, list, str]:
    both = np.concatenate([np.asarray(y_true), np.asarray(y_pred)])
    if both.dtype == object:
        both = both.astype(str)
    texts = encode_labels(both)
    return texts[: len(y_true)], texts[len(y_true):], label_kind(both)


def _features(frame: pd.DataFrame, features: Any) -> pd.DataFrame | None:
    if features is None:
        return None
    if isinstance(features, pd.DataFrame):
        if "id" in features.columns:
            feats = features.assign(id=features["id"].astype(str)).set_index("id")
            missing = ~frame["id"].isin(feats.index)
            if missing.any():
                raise ValueError(f"The features lack {int(missing.sum())} prediction ids "
                                 f"(first: {frame['id'][missing].iloc[0]!r}).")
            return feats.loc[frame["id"]].reset_index(drop=True)
        if len(features) != len(frame):
            raise ValueError(f"The features have {len(features)} rows but the predictions "
                             f"{len(frame)}. Give an 'id' column or align them by position.")
        return features.reset_index(drop=True)
    names = [features] if isinstance(features, str) else list(features)
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise ValueError(f"Feature column(s) {missing} are not in the predictions. "
                         f"Columns: {list(frame.columns)}.")
    return frame[names].reset_index(drop=True)


def features_json(feats: pd.DataFrame) -> list[str]:
    """One JSON object per row (NaN and infinities as null), built column-wise.

    Examples
    --------
    >>> features_json(pd.DataFrame({"a": [1.5, np.nan], "b": ["x", None]}))
    ['{"a": 1.5, "b": "x"}', '{"a": null, "b": null}']
    """
    names = [str(c) for c in feats.columns]
    columns = []
    for col in feats.columns:
        values = feats[col]
        if pd.api.types.is_float_dtype(values):
            arr = values.to_numpy(dtype=float)
            cells = arr.astype(object)
            cells[~np.isfinite(arr)] = None
            columns.append(cells.tolist())
        else:
            columns.append([None if _missing(v) else v for v in values.tolist()])
    encode = json.JSONEncoder(default=_json_default, allow_nan=False).encode
    return [encode(dict(zip(names, row, strict=True))) for row in zip(*columns, strict=True)]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not np.isfinite(value)) or (
        not isinstance(value, (str, bytes, list, dict)) and bool(pd.isna(value)))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _features_frame(examples: pd.DataFrame) -> pd.DataFrame:
    rows = [f if f is not None else {} for f in examples["features"]]
    return pd.DataFrame(rows, index=pd.Index(examples["id"], name="id"))


def _check_not_feature(session: Session, name: str) -> None:
    feats = session.record["settings"].get("features") or []
    if str(name).strip() in feats:
        raise ValueError(f"{name!r} is a feature column of this session; a category needs "
                         "another name.")


def _payloads(frame: pd.DataFrame, payload: Any, kind: str) -> tuple[str | None, list]:
    if payload is None:
        return None, []
    if kind not in ("auto", *PAYLOAD_KINDS):
        raise ValueError(f"The 'payload_kind' parameter must be one of "
                         f"{['auto', *PAYLOAD_KINDS]}. Got {kind!r}.")
    if isinstance(payload, str):
        if payload not in frame.columns:
            raise ValueError(f"Payload column {payload!r} is not in the predictions.")
        payload = frame[payload].tolist()
    if len(payload) != len(frame):
        raise ValueError(f"The payload has {len(payload)} items but the predictions "
                         f"{len(frame)}; give one item per prediction.")
    if kind == "auto":
        arr = payload if isinstance(payload, np.ndarray) else None
        kind = "image" if arr is not None and arr.dtype.kind in "uifb" else "text"
    out = [(eid, *encode_payload(item, kind))
           for eid, item in zip(frame["id"], payload, strict=True)]
    return kind, out


def encode_payload(item: Any, kind: str) -> tuple[str | None, bytes | None, dict | None]:
    """``(text, data, meta)`` for the store: images become raw little-endian
    bytes plus their shape and dtype in JSON; nothing is pickled.

    Examples
    --------
    >>> t, data, meta = encode_payload(np.zeros((2, 3), np.uint8), "image")
    >>> meta
    {'dtype': 'uint8', 'shape': [2, 3]}
    >>> decode_payload(t, data, meta).shape
    (2, 3)
    """
    if item is None or (isinstance(item, float) and np.isnan(item)):
        return None, None, None
    if kind in ("text", "path"):
        return str(item), None, {"kind": kind}
    arr = np.asarray(item)
    if arr.dtype.kind not in "uifb" or arr.ndim not in (2, 3):
        raise ValueError(f"An image payload must be a numeric array of 2 or 3 dimensions. "
                         f"Got dtype {arr.dtype} with shape {arr.shape}.")
    if arr.dtype == np.uint8 or arr.dtype == bool:
        dtype = "uint8"
    else:
        dtype = "float32"
    data = np.ascontiguousarray(arr, dtype="<f4" if dtype == "float32" else np.uint8).tobytes()
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"An image payload is {len(data)} bytes; the limit is "
                         f"{MAX_IMAGE_BYTES}. Give image paths instead.")
    return None, data, {"dtype": dtype, "shape": list(arr.shape)}


def decode_payload(text: str | None, data: bytes | None,
                   meta: dict | None) -> str | np.ndarray | None:
    if data is None:
        return text
    meta = meta or {}
    dtype = np.uint8 if meta.get("dtype") == "uint8" else np.dtype("<f4")
    return np.frombuffer(data, dtype=dtype).reshape(meta["shape"]).copy()


def tag_table(snapshot: dict[str, Any], *, with_features: bool = False) -> pd.DataFrame:
    """The wide review sheet from a store snapshot (see :func:`Session.tag_table`)."""
    ex = snapshot["examples"]
    table = ex[["id", "y_true", "y_pred"]].copy()
    if with_features:
        feats = _features_frame(ex).reset_index(drop=True)
        table = pd.concat([table, feats], axis=1)
    pos = {eid: i for i, eid in enumerate(ex["id"].tolist())}
    cols = {name: np.zeros(len(ex), dtype=bool) for name in snapshot["categories"]["name"]}
    tags = snapshot["tags"]
    for eid, cat, value in zip(tags["example_id"].tolist(), tags["category"].tolist(),
                               tags["value"].tolist(), strict=True):
        if value and cat in cols and eid in pos:
            cols[cat][pos[eid]] = True
    for name, col in cols.items():
        table[name] = col
    notes = dict(zip(snapshot["notes"]["example_id"], snapshot["notes"]["note"], strict=True))
    table["note"] = [notes.get(eid, "") for eid in ex["id"]]
    return table
