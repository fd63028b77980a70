"""How the dashboard copes with a large project: a benchmark, not a test.

Uploads 100,000 predictions per split (300,000 rows, 12 MB of CSV) through the
Upload page, opens an error-analysis session on all ~12,000 dev errors, and
times the pages and a tag edit (AppTest, no browser)::

    python tests/dashboard/bench_large_project.py [N_PER_SPLIT]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def _csv(n: int) -> bytes:
    rng = np.random.default_rng(0)
    parts = []
    for split, err in (("train", 0.05), ("train_dev", 0.07), ("dev", 0.12)):
        y = rng.integers(0, 5, n)
        pred = np.where(rng.random(n) < err, (y + 1) % 5, y)
        parts.append(pd.DataFrame({"split": split, "id": [f"{split}{i}" for i in range(n)],
                                   "y_true": y, "y_pred": pred, "f": rng.normal(size=n)}))
    return pd.concat(parts).to_csv(index=False).encode()


def _timed(label: str, fn):
    t0 = time.perf_counter()
    out = fn()
    print(f"{label:<45} {time.perf_counter() - t0:6.2f} s")
    return out


def main(n: int = 100_000) -> None:
    from streamlit.testing.v1 import AppTest

    import mlstrat
    from mlstrat.errors import new_session

    folder = Path(tempfile.mkdtemp()) / "large"
    mlstrat.open_project(folder).close()
    os.environ["MLSTRAT_PROJECT"] = str(folder)
    data = _csv(n)
    print(f"{3 * n:,} predictions, {len(data) / 2**20:.1f} MB of CSV")
    at = AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=600).run()
    at.switch_page("app_pages/upload.py").run()
    _timed("upload page: parse and check the CSV", lambda: at.file_uploader(
        key="predictions_csv").set_value(("large.csv", data, "text/csv")).run())
    _timed("upload page: store the run (log_run)",
           lambda: at.button(key="upload_create").click().run())
    assert not at.exception and not at.error, (at.exception, at.error)
    proj = mlstrat.open_project(folder)
    session = _timed("new_session on every dev error", lambda: new_session(proj, 1, n=None))
    print(f"  {len(session.sample_ids()):,} sampled errors")
    at.switch_page("app_pages/overview.py")
    _timed("overview page", at.run)
    at.switch_page("app_pages/error_analysis.py")
    _timed("error analysis page, first load", at.run)
    key = at.data_editor[0].key
    at.session_state[key] = {"edited_rows": {3: {"incorrectly labelled": True}},
                             "added_rows": [], "deleted_rows": []}
    _timed("a tag edit (write one cell, reload the page)", at.run)
    _timed("a rerun with nothing changed", at.run)
    assert not at.exception
    assert int(session.tag_table()["incorrectly labelled"].sum()) == 1


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
