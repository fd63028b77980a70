"""What each column is for: a role inferred from its values, with the reason.

Roles
-----
numeric      used: missing values imputed (median, with an indicator), scaled
categorical  used: one-hot encoded, rare categories grouped (``max_categories``)
date         used: year, month and day of week
text         left out: free text (kept as metadata for error analysis)
id           left out: an identifier (kept as metadata, used as example id)
drop         left out: constant, entirely missing, or dropped by you

The user can override any inferred role (``roles={"zip": "categorical"}``,
``drop=["notes"]``); the report says which choices were overridden.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"age": [31, 45, 27, 52], "city": ["a", "b", "a", "c"],
...                       "one": [1, 1, 1, 1], "y": [0, 1, 0, 1]})
>>> plan = infer_roles(frame, target="y")
>>> [(c.name, c.role) for c in plan.columns]
[('age', 'numeric'), ('city', 'categorical'), ('one', 'drop')]
>>> plan.column("one").reason
'constant: every value is 1'
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlstrat._errors import MlstratError
from mlstrat._text import quote

#: role -> what the pipeline does with it
ROLES: dict[str, str] = {
    "numeric": "imputed (median, with a missing indicator) and scaled",
    "categorical": "one-hot encoded, rare categories grouped",
    "date": "year, month and day of week",
    "text": "left out (free text; kept for error analysis)",
    "id": "left out (identifier; kept for error analysis)",
    "drop": "left out",
}
#: roles that become model inputs
FEATURE_ROLES: tuple[str, ...] = ("numeric", "categorical", "date")

_ID_NAME = re.compile(
    r"(^|[_\s-])(id|uuid|guid|key|index|identifier)$|^(id|uuid)[_\s-]|^unnamed: ?0$",
    re.IGNORECASE)
_DATE_LIKE = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?.*)?\s*$")
_SAMPLE = 2000
_TEXT_WORDS = 3.0      # mean words per value at or above which a column is free text
_ID_UNIQUE = 0.95      # share of distinct values above which a short-string column is an id
_NUMERIC_PARSE = 0.95  # share of values that must parse as numbers / dates


@dataclass
class ColumnRole:
    """One column: its role, why, and what the data looked like."""

    name: str
    role: str
    reason: str
    dtype: str
    n_missing: int
    n_unique: int
    overridden: bool = False
    inferred: str | None = None

    @property
    def used(self) -> bool:
        return self.role in FEATURE_ROLES


@dataclass
class ColumnPlan:
    """The role of every column but the target; see :func:`infer_roles`."""

    target: str
    columns: list[ColumnRole] = field(default_factory=list)
    max_categories: int = 20

    def column(self, name: str) -> ColumnRole:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"No column {name!r} in the plan.")

    def names(self, role: str) -> list[str]:
        """Columns with ``role``, in file order."""
        return [c.name for c in self.columns if c.role == role]

    @property
    def features(self) -> list[str]:
        """Columns that become model inputs."""
        return [c.name for c in self.columns if c.used]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "max_categories": self.max_categories,
                "columns": [asdict(c) for c in self.columns]}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(c) for c in self.columns],
                            columns=["name", "role", "reason", "dtype", "n_missing",
                                     "n_unique", "overridden", "inferred"])

    def __str__(self) -> str:
        lines = [f"Columns (target: {self.target!r}; {len(self.features)} used as features)"]
        width = max([len(c.name) for c in self.columns] + [6])
        for c in self.columns:
            mark = "*" if c.overridden else " "
            lines.append(f" {mark}{c.name:<{width}}  {c.role:<11}  {c.reason}")
        if any(c.overridden for c in self.columns):
            lines.append("  (* set by you)")
        return "\n".join(lines)


def close_matches(name: str, choices: Iterable[str]) -> list[str]:
    """Column names close to ``name`` (case-insensitive first), for error messages.

    Examples
    --------
    >>> close_matches("Target", ["target", "tarjet", "age"])
    ['target', 'tarjet']
    """
    choices = [str(c) for c in choices]
    exact = [c for c in choices if c.lower() == str(name).lower()]
    lowered = {c.lower(): c for c in choices}
    fuzzy = difflib.get_close_matches(str(name).lower(), list(lowered), n=5, cutoff=0.7)
    return list(dict.fromkeys(exact + [lowered[f] for f in fuzzy]))


def check_column(frame: pd.DataFrame, name: str, what: str) -> None:
    """Raise ``ValueError`` naming ``name`` and close matches if it is not a column.

    For ``what="target"`` the column's values are also checked with
    :func:`check_target`.
    """
    if name in frame.columns:
        if what == "target":
            check_target(frame[name], name)
        return
    near = close_matches(name, frame.columns)
    hint = f" Did you mean {', '.join(quote(m) for m in near)}?" if near else ""
    shown = ", ".join(quote(c) for c in list(frame.columns)[:30])
    more = " ..." if frame.shape[1] > 30 else ""
    raise ValueError(f"The {what} column {quote(name)} is not in the data.{hint} "
                     f"Columns: {shown}{more}.")


class TargetError(MlstratError):
    """The target column holds values no model can learn to predict."""


_UNLEARNABLE = (complex, np.complexfloating, dict, list, tuple, set, frozenset, bytes)


def check_target(target: pd.Series, name: str | None = None) -> None:
    """Refuse a target that is neither a label nor a number, with what it looks like.

    Refused: complex numbers, containers (dicts, lists, ...) or bytes; dates and
    times (a classifier would see each date as its own class); and labels that
    are all distinct (an identifier such as an id column: every class would have
    one example). Numbers that are all distinct are a regression target and pass.

    Raises
    ------
    TargetError
        (a ValueError) naming the column, what its values look like and the fix.

    Examples
    --------
    >>> check_target(pd.Series(["cat", "dog", "cat"]), "label")
    >>> check_target(pd.Series([1.5, 2.25, 3.0]), "price")
    >>> check_target(pd.Series(["u1", "u2", "u3", "u4"]), "user")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mlstrat.first_system._columns.TargetError: The target column 'user' looks like ...: ...
    """
    name = str(target.name) if name is None else name
    head = f"The target column {quote(name)}"
    values = target.dropna()
    if pd.api.types.is_complex_dtype(values):
        raise TargetError(f"{head} holds complex numbers (e.g. {quote(values.iloc[0])}); a "
                          "target is a class label or a real number. Choose another column.")
    if pd.api.types.is_datetime64_any_dtype(values) or \
            pd.api.types.is_timedelta64_dtype(values) or \
            isinstance(values.dtype, pd.PeriodDtype):
        raise TargetError(f"{head} holds dates or times (e.g. {quote(str(values.iloc[0]))}); "
                          "a model here predicts a class label or a number. Predict a number "
                          "derived from it (e.g. days until the event) or a category (e.g. the "
                          "month), or choose another --target.")
    if values.dtype == object:
        _check_target_objects(values, head)
    _check_not_identifier(values, head)


def _check_target_objects(values: pd.Series, head: str) -> None:
    bad = values.map(lambda v: isinstance(v, _UNLEARNABLE))
    if bad.any():
        first = values[bad].iloc[0]
        raise TargetError(f"{head} holds {type(first).__name__} values (first: row label "
                          f"{quote(values[bad].index[0])}, {quote(first)}); a target is a "
                          "class label or a real number. Flatten the column or choose "
                          "another --target.")


def _check_not_identifier(values: pd.Series, head: str) -> None:
    if len(values) < 2 or pd.api.types.is_numeric_dtype(values) and \
            not pd.api.types.is_bool_dtype(values):
        return
    n_unique = int(values.astype(str).nunique())
    if n_unique < len(values):
        return
    sample = values.astype(str).head(_SAMPLE)
    if _parse_share(sample, lambda s: pd.to_numeric(s, errors="coerce")) >= _NUMERIC_PARSE:
        return  # numbers stored as text: a regression target
    dates = sample.str.match(_DATE_LIKE).mean() >= _NUMERIC_PARSE
    what = "dates stored as text" if dates else "an identifier"
    raise TargetError(f"{head} looks like {what}: all {len(values):,} values are distinct "
                      f"(e.g. {quote(values.iloc[0])}), so a classifier would see every class "
                      "once and could learn nothing. Choose the column holding the label "
                      "(--target), or a numeric column for regression.")


# --------------------------------------------------------------------------- inference
def _integer_valued(values: pd.Series) -> bool:
    arr = values.to_numpy(dtype=float)
    return bool(np.all(np.isfinite(arr)) and np.all(np.mod(arr, 1) == 0))


def _infer_numeric(name: str, nonnull: pd.Series, n_unique: int) -> tuple[str, str]:
    if n_unique == len(nonnull) and len(nonnull) > 20 and _integer_valued(nonnull):
        ordered = np.sort(nonnull.to_numpy(dtype=float))
        if _ID_NAME.search(name) or np.all(np.diff(ordered) == 1):
            return "id", (f"identifier: {n_unique:,} distinct integers, one per row"
                          + (" (a consecutive range)" if np.all(np.diff(ordered) == 1) else ""))
    return "numeric", f"numbers, {n_unique:,} distinct values"


def _parse_share(sample: pd.Series, parse) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = parse(sample)
    return float(parsed.notna().mean())


def _to_datetime(values: pd.Series) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(values, errors="coerce")


def _infer_text(name: str, nonnull: pd.Series, n_unique: int,
                max_categories: int) -> tuple[str, str]:
    sample = nonnull.sample(min(len(nonnull), _SAMPLE), random_state=0).astype(str)
    if _parse_share(sample, lambda s: pd.to_numeric(s, errors="coerce")) >= _NUMERIC_PARSE:
        return "numeric", f"numbers stored as text, {n_unique:,} distinct values"
    if sample.str.match(_DATE_LIKE).mean() >= _NUMERIC_PARSE and \
            _parse_share(sample, _to_datetime) >= _NUMERIC_PARSE:
        return "date", "dates stored as text"
    share = n_unique / len(nonnull)
    words = float(sample.str.split().str.len().mean())
    if _ID_NAME.search(name) and share > 0.5:
        return "id", f"identifier by its name, {n_unique:,} distinct values"
    if words >= _TEXT_WORDS and share > 0.3:
        return "text", f"free text: {words:.1f} words per value, {n_unique:,} distinct values"
    if share >= _ID_UNIQUE and len(nonnull) > 20:
        return "id", f"identifier: {n_unique:,} distinct values in {len(nonnull):,} rows"
    if n_unique > max_categories:
        return "categorical", (f"{n_unique:,} categories; the {max_categories - 1} most "
                               "frequent kept, the rest grouped as infrequent")
    return "categorical", f"{n_unique:,} categories"


def infer_role(series: pd.Series, *, max_categories: int = 20) -> tuple[str, str]:
    """``(role, reason)`` for one column from its values.

    Examples
    --------
    >>> import pandas as pd
    >>> infer_role(pd.Series(["2024-01-03", "2024-02-11", None]))
    ('date', 'dates stored as text')
    >>> infer_role(pd.Series([None, None]))
    ('drop', 'entirely missing (2 empty values)')
    """
    nonnull = series.dropna()
    return _infer(series, nonnull, int(nonnull.nunique()), max_categories)


def _infer(series: pd.Series, nonnull: pd.Series, n_unique: int,
           max_categories: int) -> tuple[str, str]:
    name = str(series.name)
    if nonnull.empty:
        return "drop", f"entirely missing ({len(series):,} empty values)"
    if n_unique == 1:
        value = nonnull.iloc[0]
        value = value.item() if hasattr(value, "item") else value
        return "drop", f"constant: every value is {value!r}"
    if pd.api.types.is_bool_dtype(series):
        return "categorical", "true/false values"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date", "date/time values"
    if pd.api.types.is_numeric_dtype(series):
        return _infer_numeric(name, nonnull, n_unique)
    return _infer_text(name, nonnull, n_unique, max_categories)


def _check_overrides(frame: pd.DataFrame, target: str, roles: Mapping[str, str],
                     drop: Iterable[str]) -> None:
    for name, role in roles.items():
        check_column(frame, name, "--role")
        if role not in ROLES:
            raise ValueError(f"Unknown role {role!r} for column {name!r}. "
                             f"Valid roles: {sorted(ROLES)}.")
        if name == target:
            raise ValueError(f"Column {name!r} is the target; it cannot be given a role.")
    for name in drop:
        check_column(frame, name, "--drop")
        if name == target:
            raise ValueError(f"Column {name!r} is the target; it cannot be dropped.")


def parse_roles(roles: Mapping[str, str] | Iterable[str] | None) -> dict[str, str]:
    """Role overrides from a dict or from ``"COLUMN=ROLE"`` strings.

    Examples
    --------
    >>> parse_roles(["zip=categorical", "note = text"])
    {'zip': 'categorical', 'note': 'text'}
    """
    if roles is None:
        return {}
    if isinstance(roles, Mapping):
        return {str(k): str(v).strip().lower() for k, v in roles.items()}
    out = {}
    for item in [roles] if isinstance(roles, str) else roles:
        col, sep, role = str(item).rpartition("=")
        if not sep or not col.strip():
            raise ValueError(f"A role override must be COLUMN=ROLE, e.g. zip=categorical. "
                             f"Got {item!r}. Roles: {sorted(ROLES)}.")
        out[col.strip()] = role.strip().lower()
    return out


def parse_columns(columns: str | Iterable[str] | None) -> list[str]:
    """Column names from a list or comma-separated strings.

    Examples
    --------
    >>> parse_columns(["a,b", "c"])
    ['a', 'b', 'c']
    """
    if columns is None:
        return []
    items = [columns] if isinstance(columns, str) else list(columns)
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def infer_roles(frame: pd.DataFrame, *, target: str,
                roles: Mapping[str, str] | Iterable[str] | None = None,
                drop: str | Iterable[str] = (),
                reserved: Mapping[str, tuple[str, str]] | None = None,
                max_categories: int = 20) -> ColumnPlan:
    """Infer the role of every column but ``target``; apply the user's overrides.

    Parameters
    ----------
    frame : DataFrame
    target : str
        The column to predict (left out of the plan).
    roles : dict of str to str, or iterable of "COLUMN=ROLE", optional
        Overrides, column -> role (see ``ROLES``).
    drop : str or iterable of str
        Columns to leave out (role ``'drop'``); commas separate names.
    reserved : dict of str to (role, reason), optional
        Columns with a job elsewhere (the domain or group column), given a
        role unless the user overrides it.
    max_categories : int, default=20
        Categories kept per categorical column; the rest are grouped.

    Returns
    -------
    ColumnPlan
    """
    roles, drop = parse_roles(roles), parse_columns(drop)
    _check_overrides(frame, target, roles, drop)
    plan = ColumnPlan(target=target, max_categories=max_categories)
    for name in frame.columns:
        if name == target:
            continue
        s = frame[name]
        nonnull = s.dropna()
        n_unique = int(nonnull.nunique())
        role, reason = (reserved or {}).get(name) or _infer(s, nonnull, n_unique,
                                                             max_categories)
        col = ColumnRole(name, role, reason, str(s.dtype), len(s) - len(nonnull), n_unique)
        if name in drop:
            col.role, col.overridden, col.inferred = "drop", True, role
            col.reason = f"dropped by you (inferred: {role}, {reason})"
        elif name in roles and roles[name] != role:
            col.role, col.overridden, col.inferred = roles[name], True, role
            col.reason = f"set by you (inferred: {role}, {reason})"
        plan.columns.append(col)
    return plan


# --------------------------------------------------------------------------- coercion
def _as_number(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    if pd.api.types.is_datetime64_any_dtype(s):
        return (s - pd.Timestamp("1970-01-01")).dt.days.astype(float)
    return pd.to_numeric(s, errors="coerce").astype(float)


def text_values(s: pd.Series, missing: Any = np.nan) -> np.ndarray:
    """Every value as a ``str`` (object array), missing values as ``missing``.

    Examples
    --------
    >>> text_values(pd.Series([1, None, "a"]), missing="?").tolist()
    ['1', '?', 'a']
    """
    values = s.to_numpy(dtype=object)
    absent = s.isna().to_numpy()
    return np.array([missing if gone else (v if type(v) is str else str(v))
                     for v, gone in zip(values.tolist(), absent.tolist(), strict=True)],
                    dtype=object)


def _as_category(s: pd.Series) -> pd.Series:
    return pd.Series(text_values(s), index=s.index, dtype=object)


_COERCE = {"numeric": _as_number, "categorical": _as_category, "date": _to_datetime}


def coerce_features(frame: pd.DataFrame, plan: ColumnPlan) -> pd.DataFrame:
    """The feature columns converted to what their role needs (row-wise, stateless).

    Numbers stored as text become floats (unparseable values become missing),
    categories become strings, dates become datetimes.
    """
    return pd.DataFrame({name: _COERCE[plan.column(name).role](frame[name])
                         for name in plan.features}, index=frame.index)


#: column names that say "this is what to predict", most telling first (compared
#: in lower case, with spaces and dashes read as underscores)
TARGET_NAMES = ("target", "label", "labels", "class", "y", "outcome", "response",
                "ground_truth", "class_label", "target_class")


def _name_key(name: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def suggest_target(frame: pd.DataFrame) -> tuple[str | None, str]:
    """The column to preselect as the target, and why; ``(None, why)`` means ask.

    Only a column *named* like a target (one of ``TARGET_NAMES``, case-insensitive)
    is suggested, and only if its values can be learned (two values or more, not
    an identifier). Position (e.g. the last column) never counts: a wrong
    preselected target builds a ladder of the wrong question.

    Examples
    --------
    >>> import pandas as pd
    >>> suggest_target(pd.DataFrame({"x": [1, 2, 3, 4], "Label": ["a", "b", "a", "b"]}))
    ('Label', "named like a target ('Label')")
    >>> column, why = suggest_target(pd.DataFrame({"bill_mm": [39.1, 40.3], "year": [2007, 2008]}))
    >>> column is None, why[:32]
    (True, 'no column is named like a target')
    """
    keys = {_name_key(c): c for c in reversed(list(frame.columns))}  # first spelling wins
    passed = []
    for name in TARGET_NAMES:
        column = keys.get(name)
        if column is None:
            continue
        why = _unlearnable(frame[column])
        if why is None:
            return str(column), f"named like a target ({str(column)!r})"
        passed.append(why)
    if passed:
        return None, " ".join(passed) + " Choose the column to predict."
    return None, ("no column is named like a target (target, label, class, y, outcome, "
                  "...): choose the column to predict")


def _unlearnable(series: pd.Series) -> str | None:
    """Why a column named like a target cannot be one (a sentence), or None."""
    values = series.dropna()
    if values.nunique() < 2:
        return (f"The column {quote(str(series.name))} is named like a target but holds "
                f"{'no value' if values.empty else 'a single value'}.")
    try:
        check_target(series, str(series.name))
    except TargetError as exc:
        return str(exc)
    return None
