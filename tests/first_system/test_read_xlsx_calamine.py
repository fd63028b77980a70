"""XLSX data files are read with python-calamine: the same frame openpyxl reads,
damaged workbooks as ValueErrors naming the file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlstrat.first_system import read_table
from tests.errors._io_helpers import members, write_members


def _frame(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x = rng.normal(size=n)
    x[::17] = np.nan
    return pd.DataFrame({
        "x": x, "count": rng.integers(-5, 1000, n), "flag": rng.random(n) < 0.5,
        "city": rng.choice(["Lyon", "Zürich", "", "=1+1"], n),
        "when": pd.date_range("2024-02-28", periods=n, freq="7h"),
        "label": rng.choice(["cat", "dog"], n),
    })


def test_calamine_reads_the_frame_openpyxl_reads(tmp_path):
    path = tmp_path / "data.xlsx"
    _frame().to_excel(path, index=False, engine="openpyxl")
    got = read_table(path)
    pd.testing.assert_frame_equal(got, pd.read_excel(path, engine="openpyxl"))
    assert got["count"].dtype.kind == "i" and got["flag"].dtype == bool
    assert got["x"].isna().sum() == _frame()["x"].isna().sum()


def test_a_damaged_sheet_is_a_value_error_naming_the_file(tmp_path):
    path = tmp_path / "data.xlsx"
    _frame(20).to_excel(path, index=False, engine="openpyxl")
    content = members(path)
    sheet = next(n for n in content if n.startswith("xl/worksheets/"))
    content[sheet] = content[sheet][: len(content[sheet]) // 2]
    write_members(path, content)
    with pytest.raises(ValueError, match=r"Could not parse .*data\.xlsx.* as XLSX"):
        read_table(path)
