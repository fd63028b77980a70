"""Readers never wait for writers; a write that cannot get the lock says who
holds it and that nothing was written; read paths never create a project."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

import mlstrat.store._db as db_module
from mlstrat.cli import main
from mlstrat.store import (
    StoreLockedError,
    StoreNotFoundError,
    StoreReadOnlyError,
    open_project,
)


@pytest.fixture
def project(tmp_path):
    project = open_project(tmp_path / "proj")
    project.log_run("baseline", errors={"train": 0.1, "dev": 0.2}, sizes={"train": 50, "dev": 20})
    project.close()
    return tmp_path / "proj"


@pytest.fixture
def revision(project):
    return _revision(project)


@pytest.fixture
def writer(project):
    """Another process holding a write transaction (BEGIN IMMEDIATE) open."""
    script = textwrap.dedent(f"""
        import sqlite3, sys
        conn = sqlite3.connect({str(project / "mlstrat.db")!r}, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE store_revision SET n = n + 1000")
        print("holding", flush=True)
        sys.stdin.readline()
        conn.execute("ROLLBACK")
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    yield proc
    _release(proc)


def _release(proc):
    if proc.poll() is None:
        proc.stdin.write("\n")
        proc.stdin.flush()
    proc.wait(timeout=30)


def _revision(folder):
    return open_project(folder, create=False, readonly=True).revision()


@pytest.fixture
def short_timeout(monkeypatch):
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 300)


def test_a_read_does_not_wait_for_a_writer(project, revision, writer, monkeypatch):
    # with the old behaviour the open would block until the busy timeout and
    # then fail; 5 s here keeps a regression from hanging the suite for a minute
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 5000)
    start = time.monotonic()
    reader = open_project(project, create=False, readonly=True)
    runs = reader.runs()
    run = reader.get_run("baseline")
    elapsed = time.monotonic() - start
    assert list(runs["name"]) == ["baseline"] and run.errors["dev"] == 0.2
    assert reader.revision() == revision  # the writer's uncommitted +1000 is not seen
    assert elapsed < 1.0
    # an ordinary (writable) open of a current store takes no lock either
    start = time.monotonic()
    assert len(open_project(project).runs()) == 1
    assert time.monotonic() - start < 1.0


def test_read_commands_do_not_wait_for_a_writer(project, writer, monkeypatch, capsys):
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 5000)
    start = time.monotonic()
    assert main(["runs", "--project", str(project)]) == 0
    assert main(["runs", "baseline", "--project", str(project)]) == 0
    assert time.monotonic() - start < 1.0
    assert "baseline" in capsys.readouterr().out


def test_a_locked_write_names_the_holder_and_writes_nothing(project, revision, writer,
                                                           short_timeout):
    handle = open_project(project)
    with pytest.raises(StoreLockedError) as info:
        handle.log_run("second", errors={"train": 0.1})
    message = str(info.value)
    assert f"process {writer.pid}" in message and "Nothing was written" in message
    assert "mlstrat.db" in message and "0.3 s" in message
    _release(writer)
    after = open_project(project, create=False, readonly=True)
    assert list(after.runs()["name"]) == ["baseline"] and after.revision() == revision


def test_a_locked_write_through_the_cli(project, writer, short_timeout, capsys):
    code = main(["diagnose", "--train", "0.1", "--dev", "0.2", "--project", str(project)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "Nothing was written" in err and f"process {writer.pid}" in err


def test_readonly_refuses_writes(project):
    reader = open_project(project, readonly=True)
    with pytest.raises(StoreReadOnlyError, match="read-only; nothing was written"):
        reader.log_run("x", errors={"train": 0.1})
    assert len(open_project(project).runs()) == 1


def test_missing_project_is_not_created(tmp_path):
    with pytest.raises(StoreNotFoundError, match="No project at") as info:
        open_project(tmp_path / "typo", create=False)
    assert isinstance(info.value, FileNotFoundError)  # what the dashboard catches
    assert not (tmp_path / "typo").exists()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "mlstrat.db").write_bytes(b"")
    with pytest.raises(StoreNotFoundError):
        open_project(tmp_path / "empty", create=False)
    assert open_project(tmp_path / "new").runs().empty  # creating still works


def test_lock_holders_without_a_writer(project):
    assert db_module.lock_holders(project / "mlstrat.db") == []
