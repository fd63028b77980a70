"""Fuzzing the command line with Hypothesis: random predictions CSVs and random
corruptions of a study file. Every call must end with exit code 0 or 2 (1 only
when a study ran and every trial failed) and, on error, ONE line on stderr and
no traceback; a refused command leaves the project store byte-for-byte as it was."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import shutil
import sqlite3
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlstrat.cli import main
from mlstrat.store import open_project

FUZZ = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])


# -- a store to copy for each example ----------------------------------------------
@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A project with a run and an error-analysis session, checkpointed."""
    folder = tmp_path_factory.mktemp("pristine") / "proj"
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 100)
    pred = np.where(rng.random(100) < 0.2, 1 - y, y)
    project = open_project(folder)
    project.log_run("baseline", errors={"train": 0.1, "dev": 0.2}, sizes={"train": 500, "dev": 100})
    project.close()
    csv = folder.parent / "dev.csv"
    pd.DataFrame({"id": [f"e{i}" for i in range(100)], "y_true": y, "y_pred": pred}).to_csv(
        csv, index=False)
    assert main(["errors", "new", "--predictions", str(csv), "--project", str(folder),
                 "-n", "5"]) == 0
    gc.collect()
    conn = sqlite3.connect(folder / "mlstrat.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return folder


def _fresh_copy(pristine: Path) -> Path:
    gc.collect()  # close connections an earlier example left to the collector
    folder = Path(tempfile.mkdtemp(prefix="mlstrat-fuzz-")) / "proj"
    shutil.copytree(pristine, folder)
    return folder


def _digest(folder: Path) -> str:
    db = folder / "mlstrat.db"
    wal = Path(f"{db}-wal")
    return hashlib.sha256(db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
                          ).hexdigest()


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def _check(argv: list[str], folder: Path, *, all_failed_ok: bool = False) -> int:
    before = _digest(folder)
    code, err = _run(argv)
    assert "Traceback" not in err, err
    allowed = {0, 2} | ({1} if all_failed_ok else set())
    assert code in allowed, (code, err)
    if code != 0:
        assert err.count("\n") == 1 and err.startswith(f"mlstrat {argv[0]}: error: "), err
    if code == 1:
        assert "every trial of study" in err, err
    if code == 2:
        assert _digest(folder) == before, f"store changed by a refused command: {err}"
    shutil.rmtree(folder.parent, ignore_errors=True)
    return code


# -- random predictions CSVs -------------------------------------------------------
COLUMNS = ["id", "split", "y_true", "y_pred", "proba_0", "proba_1", "x", "", "y_true"]
CELLS = st.one_of(
    st.sampled_from(["", "0", "1", "2", "train", "dev", "test", "train_dev", "nan", "1e309",
                     "-0.5", "1.5", "a,b", '"', "\n", "0.5", "cat"]),
    st.integers(-3, 3).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)


@st.composite
def csv_tables(draw) -> bytes:
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=0, max_size=7))
    n_rows = draw(st.integers(0, 12))
    rows = [[draw(CELLS) for _ in header] for _ in range(n_rows)]
    text = "\n".join(",".join(r) for r in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    cut = draw(st.one_of(st.none(), st.integers(0, max(len(data), 1))))
    return data if cut is None else data[:cut]


PREDICTIONS = st.one_of(csv_tables(), st.binary(max_size=200))


@FUZZ
@given(data=PREDICTIONS, command=st.sampled_from(["diagnose", "errors"]))
def test_random_predictions_csv(pristine, data, command):
    folder = _fresh_copy(pristine)
    path = folder.parent / "preds.csv"
    path.write_bytes(data)
    argv = (["diagnose", str(path)] if command == "diagnose"
            else ["errors", "new", "--predictions", str(path), "-n", "3"])
    _check([*argv, "--project", str(folder)], folder)


# -- random corruptions of a study file --------------------------------------------
BASE = {
    "study": {"name": "fuzz", "strategy": "random", "n_trials": 2, "seed": 0,
              "scoring": "error", "satisfice": {"latency_ms": ["<=", 1000.0]}},
    "strategy": {},
    "data": {"dataset": "iris", "dev_fraction": 0.3, "random_state": 0},
    "estimator": {"name": "LogisticRegression", "params": {"max_iter": 200}},
    "space": {"C": {"loguniform": [0.01, 10.0]}},
}
SMALL_VALUES = st.recursive(
    st.one_of(st.integers(-3, 3), st.floats(-2, 2, allow_nan=False), st.booleans(),
              st.sampled_from(["", "two", "fast", "digits", "<=", "DIR", "bad.csv",
                               "empty.csv", "good.csv", "grid", "halving", "C", "error",
                               "uniform", "choice", "NeuralNetClassifier", "Ridge"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["loguniform", "uniform", "choice",
                                                             "latency_ms", "x", "max_iter"]),
                                            inner, max_size=2)),
    max_leaves=4,
)


def _paths(table: dict, prefix: tuple = ()) -> list[tuple]:
    out = []
    for key, value in table.items():
        out.append((*prefix, key))
        if isinstance(value, dict):
            out.extend(_paths(value, (*prefix, key)))
    return out


@st.composite
def study_texts(draw) -> str:
    import copy

    config = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(config)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = config
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(SMALL_VALUES)
        else:
            parent[draw(st.sampled_from(["extra", "kind", "n_per_dim", "target", "csv"]))] = \
                draw(SMALL_VALUES)
    text = _toml(config)
    if draw(st.booleans()) and draw(st.booleans()):  # a quarter: damage the text too
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["", "=", "[", "\"", "\x00", "]]\n"])) + \
            text[at + draw(st.integers(0, 5)):]
    return text


def _toml(config: dict) -> str:
    """A tiny TOML writer: top-level tables, values inline."""
    top = [f"{k} = {_value(v)}" for k, v in config.items() if not isinstance(v, dict)]
    tables = [f"[{k}]\n" + "\n".join(f"{_key(kk)} = {_value(vv)}" for kk, vv in v.items())
              for k, v in config.items() if isinstance(v, dict)]
    return "\n".join(top) + "\n\n" + "\n\n".join(tables) + "\n"


def _key(key: str) -> str:
    return key if key.replace("_", "").isalnum() else f'"{key}"'


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"


def test_the_toml_writer_round_trips():
    assert tomllib.loads(_toml(BASE)) == BASE


@FUZZ
@given(text=study_texts())
def test_random_study_files(pristine, text):
    folder = _fresh_copy(pristine)
    work = folder.parent
    (work / "DIR").mkdir()
    (work / "bad.csv").write_bytes(b"\x00\xff\x10binary")
    (work / "empty.csv").write_bytes(b"")
    (work / "good.csv").write_text("a,b,target\n1,2,0\n2,1,1\n3,3,0\n1,1,1\n2,2,0\n3,1,1\n")
    config = work / "study.toml"
    config.write_text(text, encoding="utf-8", errors="surrogatepass")
    _check(["tune", str(config), "--project", str(folder)], folder, all_failed_ok=True)
