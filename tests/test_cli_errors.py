"""Every bad input through the real command line: ONE line naming the file,
key or value, exit code 2 (1 for the unexpected), a traceback only with --debug,
and the project store unchanged."""

from __future__ import annotations

import gc
import hashlib
import io
import os
import socket
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlstrat.cli import main

ROOT = Path(__file__).resolve().parents[1]

STUDY = """
[study]
name = "s"
strategy = "random"
{study}

[data]
{data}

[estimator]
name = "LogisticRegression"
params = {{max_iter = 200}}

[space]
C = {{loguniform = [0.01, 10.0]}}
"""


def _predictions(n=200, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.2, 1 - y, y)
    p1 = np.clip(np.where(pred == 1, 0.8, 0.2) + rng.normal(0, 0.05, n), 0.01, 0.99)
    return pd.DataFrame({"id": [f"e{i}" for i in range(n)], "y_true": y, "y_pred": pred,
                         "proba_0": 1 - p1, "proba_1": p1, "size": rng.random(n)})


@pytest.fixture
def proj(tmp_path) -> Path:
    """A project with one error-analysis session (id 1), built through the CLI."""
    csv = tmp_path / "dev.csv"
    _predictions().to_csv(csv, index=False)
    folder = tmp_path / "proj"
    assert main(["errors", "new", "--predictions", str(csv), "--project", str(folder),
                 "-n", "10"]) == 0
    checkpoint(folder / "mlstrat.db")
    return folder


def checkpoint(db: Path) -> None:
    """Move every committed write from the WAL into the file, so that the
    file's bytes are the whole store (what ``_digest`` compares)."""
    gc.collect()  # close the connections of projects the CLI left behind
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _digest(folder: Path) -> str:
    """The store's bytes: its file and whatever its write-ahead log holds."""
    db = folder / "mlstrat.db"
    wal = Path(f"{db}-wal")
    data = db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    return hashlib.sha256(data).hexdigest()


def _fails(capsys, argv, code=2) -> str:
    """Run the CLI, check the exit code and that stderr is one line; return it."""
    assert main([str(a) for a in argv]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"mlstrat {argv[0]}: "), err
    assert "Traceback" not in err
    return err


# -- a folder where a file is expected -------------------------------------------
def test_export_to_a_folder(proj, tmp_path, capsys):
    folder = tmp_path / "DIR.xlsx"
    folder.mkdir()
    before = _digest(proj)
    err = _fails(capsys, ["errors", "export", 1, folder, "--project", proj])
    assert "DIR.xlsx" in err and "is a folder" in err
    assert _digest(proj) == before


def test_tune_a_folder(tmp_path, capsys):
    err = _fails(capsys, ["tune", tmp_path, "--project", tmp_path / "p"])
    assert str(tmp_path) in err and "is a folder" in err
    assert not (tmp_path / "p").exists()


def test_new_session_from_a_folder(tmp_path, capsys):
    (tmp_path / "DIR").mkdir()
    err = _fails(capsys, ["errors", "new", "--predictions", tmp_path / "DIR",
                          "--project", tmp_path / "p"])
    assert "DIR" in err and "is a folder" in err
    assert not (tmp_path / "p").exists()


def test_study_csv_is_a_folder(tmp_path, capsys):
    (tmp_path / "DIR").mkdir()
    config = tmp_path / "study.toml"
    config.write_text(STUDY.format(study="n_trials = 2", data='csv = "DIR"\ntarget = "y"'))
    err = _fails(capsys, ["tune", config, "--project", tmp_path / "p"])
    assert "[data]" in err and "DIR" in err and "folder" in err
    assert not (tmp_path / "p").exists()  # nothing created for a refused study


# -- empty and binary predictions ------------------------------------------------
@pytest.mark.parametrize("content", [b"", b"\x00\xff\xfe\x89PNG\r\n\x1a\n" + bytes(range(256))])
@pytest.mark.parametrize("command", ["errors", "diagnose"])
def test_empty_or_binary_predictions(proj, tmp_path, capsys, content, command):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    before = _digest(proj)
    argv = (["errors", "new", "--predictions", bad] if command == "errors"
            else ["diagnose", bad])
    err = _fails(capsys, [*argv, "--project", proj])
    assert "bad.csv" in err
    if not content:
        assert "is empty" in err
    assert _digest(proj) == before


# -- corrupt spreadsheets on import ---------------------------------------------
def _exported(proj, tmp_path) -> bytes:
    sheet = tmp_path / "good.xlsx"
    assert main(["errors", "export", "1", str(sheet), "--project", str(proj)]) == 0
    return sheet.read_bytes()


def _rezip(data: bytes, edit) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, edit(item.filename, src.read(item.filename)))
    return out.getvalue()


def _broken_sheet_xml(data):
    return _rezip(data, lambda name, b: b[: len(b) // 2] if "worksheets/sheet" in name else b)


def _broken_workbook_xml(data):
    return _rezip(data, lambda name, b: b"<workbook><sheets" if name == "xl/workbook.xml" else b)


def _bad_deflate(data):
    """Flip bytes inside the compressed stream of the first worksheet."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = next(i for i in z.infolist() if "worksheets/sheet" in i.filename)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 2, start + min(info.compress_size, 40)):
        out[k] ^= 0xA5
    return bytes(out)


@pytest.mark.parametrize("corrupt", [_broken_sheet_xml, _broken_workbook_xml, _bad_deflate,
                                     lambda d: d[:200], lambda d: b"not a zip at all"])
def test_corrupt_xlsx_import(proj, tmp_path, capsys, corrupt):
    bad = tmp_path / "tagged.xlsx"
    bad.write_bytes(corrupt(_exported(proj, tmp_path)))
    before = _digest(proj)
    err = _fails(capsys, ["errors", "import", 1, bad, "--project", proj])
    assert "tagged.xlsx" in err
    assert _digest(proj) == before


# -- a study file with bad values -------------------------------------------------
@pytest.mark.parametrize("line, words", [
    ('n_trials = "two"', ["n_trials", "'two'"]),
    ('satisfice = "fast"', ["satisfice", "'fast'"]),
    ('satisfice = {latency_ms = ["~", 1.0]}', ["satisfice.latency_ms", "'~'"]),
    ("seed = -1", ["seed", "-1"]),
    ("seed = 1.5", ["seed", "1.5"]),
    ("scoring = 3", ["scoring", "3"]),
    ("n_trials = 0", ["n_trials", "0"]),
])
def test_bad_study_values_name_the_key(tmp_path, capsys, line, words):
    config = tmp_path / "study.toml"
    study = line if line.startswith("n_trials") else f"n_trials = 2\n{line}"
    config.write_text(STUDY.format(study=study, data='dataset = "iris"'))
    err = _fails(capsys, ["tune", config, "--project", tmp_path / "p"])
    assert "invalid literal" not in err
    for word in words:
        assert word in err
    assert not (tmp_path / "p").exists()


def test_study_file_not_toml(tmp_path, capsys):
    config = tmp_path / "study.toml"
    config.write_bytes(b"\xff\xfe[study\x00")
    err = _fails(capsys, ["tune", config, "--project", tmp_path / "p"])
    assert "study.toml" in err


# -- an unreachable scheduler ----------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address", [lambda: f"tcp://127.0.0.1:{_closed_port()}",
                                     lambda: "not an address:::"])
def test_unreachable_scheduler(tmp_path, capsys, address):
    config = tmp_path / "study.toml"
    config.write_text(STUDY.format(study="n_trials = 2", data='dataset = "iris"'))
    addr = address()
    err = _fails(capsys, ["tune", config, "--project", tmp_path / "p", "--scheduler", addr,
                          "--connect-timeout", "1"])
    assert "Cannot reach the Dask scheduler" in err and addr in err
    assert not (tmp_path / "p").exists()


# -- read commands never create a project ----------------------------------------
@pytest.mark.parametrize("argv", [
    ["runs"], ["runs", "1"], ["errors", "list"], ["errors", "summary", "1"],
    ["errors", "slices", "1"], ["errors", "mislabels", "1"],
    ["errors", "export", "1", "out.xlsx"], ["errors", "import", "1", "IN"],
])
def test_read_commands_refuse_a_missing_project(tmp_path, capsys, argv):
    sheet = tmp_path / "in.csv"
    sheet.write_text("id,y_true,y_pred\n")
    argv = [str(sheet) if a == "IN" else str(tmp_path / a) if a == "out.xlsx" else a
            for a in argv]
    err = _fails(capsys, [*argv, "--project", tmp_path / "typo"])
    assert "No project at" in err and "typo" in err
    assert not (tmp_path / "typo").exists()
    assert not (tmp_path / "out.xlsx").exists()


def test_read_commands_do_not_write(proj, tmp_path, capsys):
    before = _digest(proj)
    for argv in (["runs"], ["errors", "list"], ["errors", "summary", "1"],
                 ["errors", "slices", "1"], ["errors", "mislabels", "1"],
                 ["errors", "export", "1", str(tmp_path / "r.xlsx")]):
        assert main([*argv, "--project", str(proj)]) == 0, capsys.readouterr().err
    assert _digest(proj) == before


# -- the unexpected, --debug, and a real process --------------------------------
def test_unexpected_error_is_one_line_exit_1(monkeypatch, tmp_path, capsys):
    import mlstrat.cli._runs as runs

    def boom(args):
        raise RuntimeError("something inside\nbroke")

    monkeypatch.setattr(runs, "run", boom)  # register() binds the module's `run`
    err = _fails(capsys, ["runs", "--project", tmp_path], code=1)
    assert "unexpected error: RuntimeError: something inside broke" in err
    assert "--debug" in err


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(FileNotFoundError):
        main(["--debug", "runs", "--project", str(tmp_path / "typo")])
    with pytest.raises(FileNotFoundError):  # also after the command
        main(["runs", "--project", str(tmp_path / "typo"), "--debug"])


def test_through_a_real_process(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "mlstrat", "runs", "--project",
                           str(tmp_path / "typo")], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "No project at" in done.stderr
    done = subprocess.run([sys.executable, "-m", "mlstrat", "--debug", "runs", "--project",
                           str(tmp_path / "typo")], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 1 and "Traceback" in done.stderr
    assert not (tmp_path / "typo").exists()
