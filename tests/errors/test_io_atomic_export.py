"""Exports are atomic: a SIGKILL at any moment leaves the old sheet or the new one."""

from __future__ import annotations

import csv
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pytest

from mlstrat._files import TEMP_SUFFIX, atomic_write, clean_stale_temps, stale_temps
from tests.errors._io_helpers import make_session

ROUNDS = 20

# A fork server: imports once, then forks one exporter per round that exports in a loop
# until the test kills it; the server reaps it so its pid is known to be gone.
SERVER = textwrap.dedent("""
    import os, sys
    from mlstrat.errors import open_session
    from mlstrat.store import open_project
    folder, sid = sys.argv[1], int(sys.argv[2])
    print("ready", flush=True)
    for line in sys.stdin:
        target = line.strip()
        if not target:
            break
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            session = open_session(open_project(folder), sid)
            os.write(w, b"go")
            while True:
                session.export(target)
        os.close(w)
        os.read(r, 2)
        os.close(r)
        print(pid, flush=True)
        os.waitpid(pid, 0)
        print("reaped", flush=True)
""")


def _open_xlsx(path: Path, n: int) -> None:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb["errors"].iter_rows(values_only=True))
    wb.close()
    assert rows[0][0] == "id" and len(rows) == n + 1


def _open_csv(path: Path, n: int) -> None:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "id" and len(rows) == n + 1
    assert all(len(r) == len(rows[0]) for r in rows)


@pytest.mark.parametrize("suffix, check", [(".xlsx", _open_xlsx), (".csv", _open_csv)])
def test_sigkill_during_export_never_loses_the_sheet(project, make_preds, tmp_path,
                                                     suffix, check):
    n = 300
    session = make_session(project, make_preds(n=3000, error_rate=0.3), n=n)
    target = tmp_path / f"review{suffix}"
    session.export(target)  # the user's existing sheet
    t0 = time.perf_counter()
    session.export(target)
    one_export = time.perf_counter() - t0
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]))
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(project.folder),
                               str(session.id)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env)
    rng = random.Random(12)
    mid_write = 0
    try:
        assert server.stdout.readline().strip() == "ready"
        for _ in range(ROUNDS):
            server.stdin.write(f"{target}\n")
            server.stdin.flush()
            pid = int(server.stdout.readline())
            time.sleep(rng.uniform(0, 3 * one_export))
            os.kill(pid, signal.SIGKILL)
            assert server.stdout.readline().strip() == "reaped"
            check(target, n)                       # the old sheet or the new one opens
            left = stale_temps(target)
            assert len(left) <= 1, left            # the next writer cleaned the previous one
            mid_write += bool(left)
    finally:
        server.stdin.close()
        server.wait(timeout=60)
    assert mid_write >= 1  # some kills did land while the temporary file was written
    session.export(target)
    assert stale_temps(target) == []               # killed writers' temps are gone
    check(target, n)


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "sheet.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(target, text=True) as fh:
            fh.write("half a new")
            raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert stale_temps(target) == []


def test_permissions_of_an_existing_file_are_kept(tmp_path):
    target = tmp_path / "shared.csv"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    with atomic_write(target) as fh:
        fh.write(b"new\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_bytes() == b"new\n"


def test_stale_temps_of_live_writers_are_kept(tmp_path):
    target = tmp_path / "s.xlsx"
    mine = tmp_path / f".s.xlsx.{os.getpid()}.abcd{TEMP_SUFFIX}"
    dead = tmp_path / f".s.xlsx.999999999.abcd{TEMP_SUFFIX}"
    for p in (mine, dead):
        p.write_bytes(b"partial")
    assert clean_stale_temps(target) == [dead]
    assert stale_temps(target) == [mine]


def test_export_to_a_folder_is_a_clear_error(project, preds, tmp_path):
    session = make_session(project, preds)
    folder = tmp_path / "review.xlsx"
    folder.mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        session.export(folder)
    assert list(folder.iterdir()) == [] and stale_temps(folder) == []


def test_save_model_is_atomic_too(tmp_path, monkeypatch):
    import numpy as np

    from mlstrat.nn import Dense, Sequential, load_model, save_model

    path = tmp_path / "m.npz"
    model = Sequential([Dense(2, activation="softmax")], input_dim=3, random_state=0)
    save_model(model, path)
    before = path.read_bytes()

    def half_written(handle, **arrays):
        handle.write(b"PK\x03\x04 half an archive")
        raise OSError("No space left on device")

    monkeypatch.setattr(np, "savez", half_written)
    with pytest.raises(OSError):
        save_model(model, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and stale_temps(path) == []
    X = np.ones((1, 3))
    assert np.array_equal(load_model(path).predict_proba(X), model.predict_proba(X))
