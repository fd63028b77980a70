"""Shared by the issue-12 file tests: sessions, zip surgery and store fingerprints."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd

from mlstrat.errors import BUILTIN_CATEGORY, new_session


def make_session(project, preds, n=20):
    s = new_session(project, preds, n=n, features=["brightness", "camera"],
                    categories=(BUILTIN_CATEGORY, "blurry"))
    ids = s.sample_ids()
    s.tag(ids[0], "blurry", by="ana")
    s.set_note(ids[1], "kept", by="ana")
    return s


def fingerprint(session) -> tuple:
    """Everything an import could change: tags, notes, categories and the revision."""
    snap = session.project.error_snapshot(session.id)
    frames = [snap[k].sort_values(list(snap[k].columns)[:2]).reset_index(drop=True)
              for k in ("tags", "notes", "categories")]
    return (snap["revision"], *[f.to_csv(index=False) for f in frames])


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def write_members(path: Path, content: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in content.items():
            zf.writestr(name, data)


def data_start(path: Path, member: str) -> tuple[int, int]:
    """(offset, length) of ``member``'s compressed bytes inside the archive."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    raw = path.read_bytes()
    off = info.header_offset
    name_len = int.from_bytes(raw[off + 26:off + 28], "little")
    extra_len = int.from_bytes(raw[off + 28:off + 30], "little")
    return off + 30 + name_len + extra_len, info.compress_size


def frame_of(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)
