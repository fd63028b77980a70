"""One project per dataset: the fingerprint every baseline run keeps of its data.

A fingerprint is a small JSON-able dict:

- ``sha256``: the SHA-256 of a canonical CSV serialisation of the table as read
  (columns sorted by name, rows in file order, ``\\n`` line ends), so a file read
  on the command line and the same file uploaded to the dashboard agree;
- ``file_sha256``: the SHA-256 of the file's bytes (None for a DataFrame);
- ``name`` (the file name, or None), ``target``, ``columns`` (sorted) and
  ``n_rows``.

The rule the workflow applies before it writes anything (:func:`check_dataset`):
a project that already holds baseline runs of another dataset refuses new runs
whose **target** or **columns** differ, and suggests a project of its own
(:func:`project_for`). The same target and columns with other rows or values
(a new version of the file) is refused too unless the caller says so
(``allow_new_data=True``, ``--allow-new-data``): the earlier runs' dev rows are
then other rows, and no comparison pairs the two versions.

:func:`same_dataset` tells whether two runs can be compared: same data, and the
same dev rows (split seed, domain, group, repeated rows dropped or not).

Examples
--------
>>> import pandas as pd
>>> a = fingerprint(pd.DataFrame({"x": [1, 2], "y": [0, 1]}), "y")
>>> b = fingerprint(pd.DataFrame({"y": [0, 1], "x": [1, 2]}), "y")  # columns reordered
>>> a["sha256"] == b["sha256"], a["columns"], a["n_rows"]
(True, ['x', 'y'], 2)
>>> project_for("data/Palmer penguins.csv")
'palmer_penguins_project'
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from mlstrat._errors import MlstratError
from mlstrat.store import StoreError, open_project
from mlstrat.store._project import STORE_FILE

#: rows serialised at a time while hashing (bounds the memory a big table needs)
_CHUNK_ROWS = 50_000
#: run config keys of the workflow that decide which rows are dev
_DEV_KEYS = ("split_seed", "domain", "group", "drop_duplicates")


class DatasetMismatchError(MlstratError):
    """Runs of another dataset were refused: the project holds runs of other data.

    ``advice`` is the message's closing sentence, the command line's way out
    (``--project <name>_project``), so that an interface can say its own instead.

    Examples
    --------
    >>> exc = DatasetMismatchError("Refused. Use --project x.", advice="Use --project x.")
    >>> str(exc).replace(exc.advice, "Choose another project.")
    'Refused. Choose another project.'
    """

    def __init__(self, message: str, advice: str = "") -> None:
        super().__init__(message)
        self.advice = advice


def frame_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of the canonical CSV of ``frame``: columns sorted by name, no index.

    Examples
    --------
    >>> import pandas as pd
    >>> frame_sha256(pd.DataFrame({"a": [1]})) == frame_sha256(pd.DataFrame({"a": [1]}))
    True
    >>> frame_sha256(pd.DataFrame({"a": [1]})) == frame_sha256(pd.DataFrame({"a": [2]}))
    False
    """
    canonical = frame.copy()
    canonical.columns = [str(c) for c in canonical.columns]
    canonical = canonical[sorted(canonical.columns)]
    digest = hashlib.sha256()
    for start in range(0, max(len(canonical), 1), _CHUNK_ROWS):
        part = canonical.iloc[start:start + _CHUNK_ROWS]
        digest.update(part.to_csv(index=False, header=start == 0,
                                  lineterminator="\n").encode("utf-8"))
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(frame: pd.DataFrame, target: str, *, path: str | Path | None = None,
                name: str | None = None) -> dict[str, Any]:
    """The fingerprint of a table as read (before rows without a target are left out).

    Parameters
    ----------
    frame : DataFrame
        The table as read from the file (or given).
    target : str
        The column to predict.
    path : str or Path, optional
        The file it was read from: adds its name and the hash of its bytes.
    name : str, optional
        The data's name (e.g. an uploaded file's name); default the file's name.

    Examples
    --------
    >>> import pandas as pd
    >>> fp = fingerprint(pd.DataFrame({"b": [1, 2, 3], "a": [0, 1, 0]}), "a")
    >>> fp["target"], fp["columns"], fp["n_rows"], len(fp["sha256"]), fp["file_sha256"]
    ('a', ['a', 'b'], 3, 64, None)
    >>> fingerprint(pd.DataFrame({"a": [0, 1]}), "a", name="upload.csv")["name"]
    'upload.csv'
    """
    if name is not None and not isinstance(name, str):
        raise TypeError(f"The 'name' of the data must be a str or None. "
                        f"Got {type(name).__name__}.")
    return {"name": name or (None if path is None else Path(path).name),
            "file_sha256": None if path is None else file_sha256(path),
            "sha256": frame_sha256(frame), "target": str(target),
            "columns": sorted(str(c) for c in frame.columns), "n_rows": int(len(frame))}


def project_for(path_or_name: str | Path) -> str:
    """A project folder name for a data file: ``<stem>_project`` (lower case, safe).

    Examples
    --------
    >>> project_for("penguins.csv"), project_for("/tmp/Sales 2024.xlsx")
    ('penguins_project', 'sales_2024_project')
    >>> project_for("")
    'data_project'
    """
    stem = Path(str(path_or_name)).stem if str(path_or_name) else ""
    safe = re.sub(r"[^0-9a-z_-]+", "_", stem.lower()).strip("_-")
    return f"{safe or 'data'}_project"


def new_project_folder(parent: str | Path, name: str | Path) -> Path:
    """A folder for a new project of the file ``name`` in ``parent``: ``<stem>_project``,
    or ``<stem>_2_project``, ``<stem>_3_project``... when that folder exists.

    Examples
    --------
    >>> import tempfile
    >>> parent = Path(tempfile.mkdtemp())
    >>> new_project_folder(parent, "wine.csv").name
    'wine_project'
    >>> (parent / "wine_project").mkdir()
    >>> new_project_folder(parent, "wine.csv").name
    'wine_2_project'
    """
    parent, base = Path(parent), project_for(name)
    folder, k = parent / base, 2
    while folder.exists():
        folder, k = parent / f"{base[:-len('_project')]}_{k}_project", k + 1
    return folder


# --------------------------------------------------------------------- projects beside a folder
#: projects beside a folder whose data are read, besides those named after the file
MAX_NEARBY = 50
#: entries of the parent folder looked at for the other projects (the ones named after
#: the file are looked up by name, however many folders there are)
_MAX_SCANNED = 10_000


def nearby_projects(folder: str | Path, name: str | Path | None = None, *,
                    limit: int = MAX_NEARBY) -> list[Path]:
    """``folder`` and the project folders beside it, in the order to look for data in.

    First ``folder`` itself, then the folders named after the file ``name`` as
    :func:`project_for` and :func:`new_project_folder` name them (``wine_project``,
    ``wine_2_project``...: where the command line and the dashboard put its runs),
    then at most ``limit`` other folders holding a store, the most recently
    written first. Only folders holding a store (``mlstrat.db``) are listed,
    ``folder`` excepted; nothing is opened.

    Examples
    --------
    >>> import tempfile
    >>> parent = Path(tempfile.mkdtemp())
    >>> for sub in ("aaa", "open", "wine_project", "zzz", "not_a_project"):
    ...     (parent / sub).mkdir()
    >>> for sub in ("aaa", "wine_project", "zzz"):
    ...     _ = (parent / sub / "mlstrat.db").write_bytes(b"x")
    >>> [p.name for p in nearby_projects(parent / "open", "wine.csv")][:2]
    ['open', 'wine_project']
    >>> sorted(p.name for p in nearby_projects(parent / "open", "wine.csv"))
    ['aaa', 'open', 'wine_project', 'zzz']
    """
    folder = Path(os.path.abspath(folder))
    out, numbered, others = [folder], [], []
    stem = project_for(name)[:-len("_project")] if name else None
    if stem is not None:  # looked up by name: found however many folders there are
        out += [p for p in (folder.parent / f"{stem}_project",) if _store_time(p) is not None]
    named = re.compile(rf"{re.escape(stem)}_([0-9]+)_project") if stem else None
    for i, entry in enumerate(_entries(folder.parent)):
        if i >= _MAX_SCANNED:
            break
        path = Path(entry)
        written = None if path in out else _store_time(path)
        if written is None:
            continue
        match = named.fullmatch(path.name) if named is not None else None
        if match:
            numbered.append((int(match.group(1)), path))
        else:
            others.append((written, path.name, path))
    others.sort(key=lambda t: (-t[0], t[1]))
    return out + [p for _, p in sorted(numbered)] + \
        [p for _, _, p in others[:max(int(limit), 0)]]


def _entries(parent: Path) -> list[str]:
    """The sub-folders of ``parent`` (none when it cannot be listed)."""
    try:
        with os.scandir(parent) as it:
            return [e.path for e in it if e.is_dir()]
    except OSError:
        return []


def _store_time(folder: Path) -> int | None:
    """When the store of ``folder`` was last written (ns), None without a store."""
    times = []
    for suffix in ("", "-wal"):
        try:
            times.append((folder / f"{STORE_FILE}{suffix}").stat().st_mtime_ns)
        except OSError:
            if not suffix:
                return None
    return max(times)


def project_dataset(folder: str | Path) -> tuple[int, dict[str, Any] | None]:
    """(runs, the newest data fingerprint stored) of a project, opened read only.

    ``(-1, None)`` when the folder holds no readable store; the fingerprint is
    looked for among the 20 newest runs (None when none carries one).

    Examples
    --------
    >>> import tempfile
    >>> from mlstrat import open_project
    >>> folder = tempfile.mkdtemp()
    >>> project_dataset(folder)
    (-1, None)
    >>> p = open_project(folder)
    >>> _ = p.log_run("a", errors={"dev": 0.1}, dataset={"sha256": "ab", "target": "y"})
    >>> p.close()
    >>> project_dataset(folder)
    (1, {'sha256': 'ab', 'target': 'y'})
    """
    try:
        proj = open_project(folder, create=False, readonly=True)
    except (StoreError, OSError, ValueError):
        return -1, None
    try:
        ids = [int(i) for i in proj.runs()["id"]][::-1]
        for run_id in ids[:20]:
            dataset = proj.get_run(run_id).dataset
            if dataset:
                return len(ids), dict(dataset)
        return len(ids), None
    finally:
        proj.close()


def projects_of_data(folder: str | Path, dataset: Mapping[str, Any], *,
                     limit: int = MAX_NEARBY,
                     read: Callable[[Path], tuple[int, Mapping[str, Any] | None]]
                     = project_dataset) -> list[tuple[Path, int]]:
    """The projects made from the data of ``dataset`` (a :func:`fingerprint`): ``folder``
    and the projects beside it (:func:`nearby_projects`) whose newest runs were made
    from the same rows (``sha256``) with the same target. Returns ``(folder, runs)``
    pairs, the folder named after the file (``dataset["name"]``) first.

    A project built from a file on the command line and one built from the same
    file uploaded to the dashboard have the same ``sha256``: each is found from
    the other. ``read`` reads a project (:func:`project_dataset`; a caller may cache it).

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from mlstrat import open_project
    >>> parent = Path(tempfile.mkdtemp())
    >>> fp = fingerprint(pd.DataFrame({"x": [1, 2], "y": [0, 1]}), "y")
    >>> p = open_project(parent / "mine")
    >>> _ = p.log_run("a", errors={"dev": 0.1}, dataset=fp)
    >>> p.close()
    >>> [(f.name, n) for f, n in projects_of_data(parent / "open", {**fp, "name": "t.csv"})]
    [('mine', 1)]
    >>> projects_of_data(parent / "open", {**fp, "target": "x"})
    []
    """
    found = []
    for path in nearby_projects(folder, dataset.get("name"), limit=limit):
        n_runs, stored = read(path)
        if stored and stored.get("sha256") is not None \
                and stored.get("sha256") == dataset.get("sha256") \
                and stored.get("target") == dataset.get("target"):
            found.append((path, n_runs))
    return found


# --------------------------------------------------------------------- runs of a project
def run_dataset(run: Any) -> dict[str, Any] | None:
    """What a stored run says of its data: its fingerprint, or for a baseline run
    logged before fingerprints, the target and columns of its configuration
    (``sha256`` None); None when the run says nothing."""
    if getattr(run, "dataset", None):
        return dict(run.dataset)
    info = (getattr(run, "config", None) or {}).get("baseline")
    if not isinstance(info, Mapping) or "target" not in info or "roles" not in info:
        return None
    columns = sorted({str(info["target"]), *map(str, info["roles"])})
    return {"name": Path(str(info.get("data", ""))).name or None, "sha256": None,
            "target": str(info["target"]), "columns": columns, "n_rows": None}


def check_dataset(new: Mapping[str, Any], runs: Iterable[Any], *,
                  allow_new_data: bool = False, project: str = "the project") -> list[str]:
    """Refuse ``new`` data in a project whose runs were made from other data.

    Returns notes (e.g. older runs without a fingerprint) when accepted.

    Raises
    ------
    DatasetMismatchError
        A stored run has another target or other columns; or other rows or
        values while ``allow_new_data`` is False.

    Examples
    --------
    >>> import pandas as pd
    >>> old = fingerprint(pd.DataFrame({"x": [1, 2], "y": [0, 1]}), "y", path=None)
    >>> class Run:
    ...     id, dataset, config = 1, old, {}
    >>> check_dataset(old, [Run()])
    []
    >>> new = fingerprint(pd.DataFrame({"x": [1, 2], "label": [0, 1]}), "label")
    >>> check_dataset(new, [Run()])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mlstrat.first_system._dataset.DatasetMismatchError: The project holds runs of another dataset...
    """
    seen: dict[tuple, list[int]] = {}
    for run in runs:
        fp = run_dataset(run)
        if fp is not None:
            key = (fp.get("sha256"), fp["target"], tuple(fp["columns"]))
            seen.setdefault(key, []).append(int(run.id))
    notes = []
    for (sha, target, columns), ids in seen.items():
        old = {"sha256": sha, "target": target, "columns": list(columns)}
        why = _difference(old, new)
        if why is None and sha is None:
            notes.append(f"Runs {_ids(ids)} of {project} predate data fingerprints: their "
                         "target and columns match this data; their rows cannot be checked.")
        elif why is not None and (why != "rows" or not allow_new_data):
            message, advice = _refusal(project, new, ids, why, old)
            raise DatasetMismatchError(f"{message} {advice}", advice)
        elif why == "rows":
            notes.append(f"Runs {_ids(ids)} of {project} were made from another version of "
                         "this data (same target and columns, other rows or values; "
                         "allow_new_data=True): they are not compared with these runs.")
    return notes


def _difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """'target', 'columns', 'rows' (other rows or values) or None (same data)."""
    if old["target"] != new["target"]:
        return "target"
    if list(old["columns"]) != list(new["columns"]):
        return "columns"
    if old.get("sha256") is not None and old["sha256"] != new.get("sha256"):
        return "rows"
    return None


def _refusal(project: str, new: Mapping[str, Any], ids: list[int], why: str,
             old: Mapping[str, Any]) -> tuple[str, str]:
    """The refusal, and its advice (a project of the data's own) apart."""
    what = new.get("name") or "this data"
    if why == "target":
        detail = f"target {old['target']!r} there, {new['target']!r} here"
    elif why == "columns":
        gone = sorted(set(old["columns"]) - set(new["columns"]))
        added = sorted(set(new["columns"]) - set(old["columns"]))
        detail = "columns " + "; ".join(p for p in (
            f"missing here: {_names(gone)}" if gone else "",
            f"new here: {_names(added)}" if added else "") if p)
    else:
        detail = ("same target and columns but other rows or values: a new version of the "
                  "data? Pass allow_new_data=True (--allow-new-data) to add it anyway; "
                  "the two versions are then never compared")
    return (f"{project[:1].upper()}{project[1:]} holds runs of another dataset "
            f"(runs {_ids(ids)}; {detail}). Nothing was written.",
            f"Build the baselines of {what} in a project of its own, "
            f"e.g. --project {project_for(new.get('name') or 'data')}.")


def same_dataset(run_a: Any, run_b: Any) -> tuple[bool | None, str]:
    """Whether two stored runs were made from the same data with the same dev rows.

    Returns ``(True, why)``, ``(False, why)`` — refuse to compare them — or
    ``(None, why)`` when a run carries no fingerprint (logged before they
    existed, or not by the workflow): the caller then relies on matching the
    dev examples by id.

    Examples
    --------
    >>> from types import SimpleNamespace as Run
    >>> fp = {"sha256": "a" * 64, "target": "y", "columns": ["x", "y"], "n_rows": 9}
    >>> a = Run(id=1, dataset=fp, config={"baseline": {"split_seed": 0}})
    >>> b = Run(id=2, dataset=fp, config={"baseline": {"split_seed": 0}})
    >>> same_dataset(a, b)[0]
    True
    >>> c = Run(id=3, dataset={**fp, "target": "z", "columns": ["x", "z"]}, config={})
    >>> same_dataset(a, c)
    (False, "runs 1 and 3 were made from different datasets (target 'y' against 'z').")
    >>> d = Run(id=4, dataset=fp, config={"baseline": {"split_seed": 1}})
    >>> same_dataset(a, d)[1]
    'runs 1 and 4 have different dev rows (split_seed: 0 against 1).'
    """
    fa, fb = run_dataset(run_a), run_dataset(run_b)
    pair = f"runs {run_a.id} and {run_b.id}"
    if fa is None or fb is None:
        which = run_a.id if fa is None else run_b.id
        return None, f"run {which} carries no data fingerprint: the data cannot be checked."
    why = _difference(fa, fb)
    if why == "target":
        return False, (f"{pair} were made from different datasets (target "
                       f"{fa['target']!r} against {fb['target']!r}).")
    if why == "columns":
        return False, f"{pair} were made from different datasets (other columns)."
    if fa.get("sha256") is None or fb.get("sha256") is None:
        return None, (f"{pair} share target and columns; one predates data fingerprints, "
                      "so their rows cannot be checked.")
    if fa["sha256"] != fb["sha256"]:
        return False, (f"{pair} were made from different versions of the data (same "
                       "columns, other rows or values).")
    return _same_dev_rows(pair, run_a, run_b)


def _same_dev_rows(pair: str, run_a: Any, run_b: Any) -> tuple[bool, str]:
    ca = (getattr(run_a, "config", None) or {}).get("baseline") or {}
    cb = (getattr(run_b, "config", None) or {}).get("baseline") or {}
    for key in _DEV_KEYS:
        if key in ca and key in cb and ca[key] != cb[key]:
            return False, f"{pair} have different dev rows ({key}: {ca[key]!r} against " \
                          f"{cb[key]!r})."
    return True, f"{pair} were made from the same data."


def _ids(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:5]))
    return shown + (f", ... ({len(ids)} runs)" if len(ids) > 5 else "")


def _names(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names[:8]) + (" ..." if len(names) > 8 else "")


__all__ = ["MAX_NEARBY", "DatasetMismatchError", "check_dataset", "fingerprint",
           "frame_sha256", "nearby_projects", "new_project_folder", "project_dataset",
           "project_for", "projects_of_data", "run_dataset", "same_dataset"]
