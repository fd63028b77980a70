"""Two processes writing one session at once, and a process killed mid-write."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time

import pandas as pd

from mlstrat.errors import BUILTIN_CATEGORY, new_session, open_session
from mlstrat.store import open_project

CTX = mp.get_context("spawn")


def _tag_all(folder, session_id, category, start, log=None):
    start.wait(60)
    project = open_project(folder)
    s = open_session(project, session_id)
    for eid in s.sample_ids():
        s.tag(eid, category, by=category)
        s.set_note(eid, f"seen by {category}", by=category) if category == "blurry" else None
        if log is not None:
            with open(log, "a") as fh:
                fh.write(eid + "\n")


def _import(folder, session_id, path, start):
    start.wait(60)
    project = open_project(folder)
    time.sleep(0.3)  # land in the middle of the other process's tagging
    open_session(project, session_id).import_tags(path, by="sheet")


def _run(*procs):
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0


def _session(tmp_path, make_preds, n=60):
    folder = tmp_path / "proj"
    project = open_project(folder)
    s = new_session(project, make_preds(n=600), n=n,
                    categories=(BUILTIN_CATEGORY, "blurry", "dark"))
    return folder, project, s


def test_two_processes_tagging_the_same_rows_lose_nothing(tmp_path, make_preds):
    folder, project, s = _session(tmp_path, make_preds)
    start = CTX.Event()
    a = CTX.Process(target=_tag_all, args=(folder, s.id, "blurry", start))
    b = CTX.Process(target=_tag_all, args=(folder, s.id, "dark", start))
    for p in (a, b):
        p.start()
    start.set()
    for p in (a, b):
        p.join(120)
        assert p.exitcode == 0
    t = s.tag_table()
    assert t["blurry"].all() and t["dark"].all() and (t["note"] == "seen by blurry").all()
    assert len(project.error_tags(s.id)) == 2 * len(t)


def test_spreadsheet_import_during_tagging_loses_nothing(tmp_path, make_preds):
    folder, project, s = _session(tmp_path, make_preds)
    path = s.export(tmp_path / "sheet.csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["dark"] = "x"
    frame.to_csv(path, index=False)
    start = CTX.Event()
    a = CTX.Process(target=_tag_all, args=(folder, s.id, "blurry", start))
    b = CTX.Process(target=_import, args=(folder, s.id, path, start))
    for p in (a, b):
        p.start()
    start.set()
    for p in (a, b):
        p.join(120)
        assert p.exitcode == 0
    t = s.tag_table()
    assert t["blurry"].all(), "the import overwrote tags made after the export"
    assert t["dark"].all()


def test_kill_9_mid_write_loses_at_most_the_change_in_flight(tmp_path, make_preds):
    folder, project, s = _session(tmp_path, make_preds, n=200)
    log = tmp_path / "committed.txt"
    log.touch()
    start = CTX.Event()
    p = CTX.Process(target=_tag_all, args=(folder, s.id, "blurry", start, str(log)))
    p.start()
    start.set()
    deadline = time.time() + 60
    while len(log.read_text().split()) < 30 and time.time() < deadline:
        time.sleep(0.02)
    os.kill(p.pid, signal.SIGKILL)
    p.join(30)
    assert p.exitcode == -signal.SIGKILL
    committed = log.read_text().split()
    assert 30 <= len(committed) < 200
    reopened = open_project(folder)
    assert reopened._db.read().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    t = open_session(reopened, s.id).tag_table().set_index("id")
    tagged = set(t.index[t["blurry"]])
    assert set(committed) <= tagged                 # nothing committed was lost
    assert len(tagged - set(committed)) <= 1        # at most the one in flight
    assert open_session(reopened, s.id).tag(s.sample_ids()[-1], "dark")  # still writable
