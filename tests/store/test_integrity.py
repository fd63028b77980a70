"""A damaged store says so, names the file, and is left exactly as it was."""

from __future__ import annotations

import hashlib
import os
import sqlite3

import pytest

from mlstrat.cli import main
from mlstrat.store import StoreDamagedError, StoreError, open_project

PAGE = 4096


@pytest.fixture
def store(tmp_path):
    """A project with 40 runs, checkpointed so that the file holds everything."""
    project = open_project(tmp_path / "proj")
    for i in range(40):
        project.log_run(f"run{i}", errors={"train": 0.1, "dev": 0.2},
                        sizes={"train": 1000, "dev": 100}, config={"note": "x" * 400})
    project.close()
    db = tmp_path / "proj" / "mlstrat.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert db.stat().st_size > 20 * PAGE
    return db


def _overwrite_pages(db, first, n, byte=None):
    data = bytearray(db.read_bytes())
    junk = os.urandom(n * PAGE) if byte is None else bytes([byte]) * (n * PAGE)
    data[first * PAGE:(first + n) * PAGE] = junk
    db.write_bytes(bytes(data))


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", [
    lambda db: _overwrite_pages(db, 3, 2),            # random bytes over two pages
    lambda db: _overwrite_pages(db, 1, 1, 0x55),      # the schema's next page
    lambda db: _overwrite_pages(db, -1 + db.stat().st_size // PAGE, 1, 0),  # last page
    lambda db: db.write_bytes(db.read_bytes()[: db.stat().st_size // 2]),  # cut in half
])
def test_damaged_store_is_refused_and_unchanged(store, damage):
    damage(store)
    before = _sha(store)
    with pytest.raises(StoreDamagedError) as info:
        open_project(store.parent)
    message = str(info.value)
    assert str(store) in message and "damaged" in message and "not changed" in message
    assert isinstance(info.value, StoreError) and isinstance(info.value, ValueError)
    assert _sha(store) == before
    with pytest.raises(StoreDamagedError):  # a read-only open too
        open_project(store.parent, create=False, readonly=True)
    assert _sha(store) == before


def test_damaged_store_through_the_cli(store, capsys):
    _overwrite_pages(store, 3, 2)
    before = _sha(store)
    for argv in (["runs"], ["diagnose", "--train", "0.1", "--dev", "0.2"],
                 ["errors", "list"]):
        assert main([*argv, "--project", str(store.parent)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "damaged" in err and "mlstrat.db" in err
    assert _sha(store) == before


def test_a_sound_store_passes(store):
    project = open_project(store.parent, create=False, readonly=True)
    assert len(project.runs()) == 40


def test_a_header_that_is_not_sqlite(tmp_path):
    db = tmp_path / "mlstrat.db"
    db.write_bytes(b"SQLite format 2\x00" + bytes(5000))
    with pytest.raises(StoreError, match="not an SQLite file"):
        open_project(tmp_path)


def test_a_damaged_header_is_damage_not_another_kind_of_file(store):
    data = bytearray(store.read_bytes())
    data[16:100] = bytes([0xFF]) * 84  # page size, versions...: SQLite refuses it
    store.write_bytes(bytes(data))
    before = _sha(store)
    with pytest.raises(StoreDamagedError, match="is damaged"):
        open_project(store.parent, create=False, readonly=True)
    assert _sha(store) == before


def test_a_file_that_is_not_sqlite_is_left_unchanged(tmp_path):
    db = tmp_path / "mlstrat.db"
    db.write_text("hello, I am not a database")
    with pytest.raises(StoreError, match="not an SQLite file"):
        open_project(tmp_path)
    assert db.read_text() == "hello, I am not a database"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlstrat.db"]
