"""A process that keeps a store open stays in step with another process writing it.

SQLite keeps its locks as POSIX advisory (fcntl) locks, and closing *any*
descriptor of a file drops all the locks the process holds on that file. A
second ``open_project`` in a process that already had the store open used to
read the file's header with Python's ``open()``: that dropped the shared lock
of the first connection, so the next process to close the store believed it
was the last one, checkpointed and deleted the WAL and its index while this
process still used them. This process then wrote into a deleted WAL (the write
was lost to every other process), read stale data, and a later open here
failed ``PRAGMA quick_check`` with "database disk image is malformed" although
the file was sound. These tests replay that with a real writer process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlstrat.store import StoreDamagedError, open_project

ROOT = Path(__file__).resolve().parents[2]

# argv: folder, then "close" (write a run and close) or "kill" (write a run
# and exit without closing: the WAL keeps the committed run, unmerged).
WRITER = """
import os, sys
from mlstrat.store import open_project
folder = sys.argv[1]
for i, how in enumerate(sys.argv[2:]):
    project = open_project(folder)
    project.log_run(f"child{i}", errors={"train": 0.1, "dev": 0.2})
    if how == "kill":
        os._exit(0)
    project.close()
"""

# argv: the store file; prints the run names another process sees.
READER = """
import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(",".join(sorted(r[0] for r in conn.execute("SELECT name FROM runs"))))
"""


def _child(script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, *args], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _names(project) -> set[str]:
    return set(project.runs()["name"])


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "proj"
    open_project(folder).close()
    return folder


def test_a_write_here_after_another_process_closed_reaches_everyone(folder):
    first = open_project(folder)
    second = open_project(folder)  # the open that dropped the first one's lock
    try:
        _child(WRITER, str(folder), "close")
        first.log_run("here", errors={"train": 0.3, "dev": 0.4})
        try:
            third = open_project(folder)
        except StoreDamagedError as exc:  # what the stale WAL index made of it
            pytest.fail(f"a sound store was reported damaged: {exc}")
        assert _names(third) == {"child0", "here"}
        third.close()
        # the run written here is in the file other processes read, not in
        # a deleted WAL
        assert _child(READER, str(first.path)) == "child0,here"
        assert _names(second) == {"child0", "here"}
    finally:
        first.close()
        second.close()


def test_a_reader_here_sees_what_another_process_committed(folder):
    first = open_project(folder, create=False, readonly=True)
    second = open_project(folder, create=False, readonly=True)
    try:
        assert _names(first) == set()
        # one run written and closed (the WAL merged), then one committed by
        # a process that dies before closing (the run stays in the WAL)
        _child(WRITER, str(folder), "close", "kill")
        assert _names(first) == {"child0", "child1"}
        assert _names(second) == {"child0", "child1"}
        third = open_project(folder, create=False, readonly=True)
        assert _names(third) == {"child0", "child1"}
        third.close()
    finally:
        first.close()
        second.close()


def _locks_held_here(path: Path) -> list[str]:
    """This process's fcntl locks on ``path``, from /proc/locks."""
    st = path.stat()
    key = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    held = []
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" not in fields and fields[4] == str(os.getpid()) and fields[5] == key:
            held.append(" ".join(fields[1:4] + fields[6:8]))
    return sorted(held)


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="reads Linux's /proc/locks")
def test_opening_again_keeps_the_lock_of_the_connection_already_open(folder):
    first = open_project(folder)
    try:
        first.runs()
        held = _locks_held_here(first.path)
        assert held, "an open connection holds a shared lock on the store file"
        for readonly in (False, True):
            open_project(folder, create=False, readonly=readonly).close()
            assert _locks_held_here(first.path) == held
    finally:
        first.close()

