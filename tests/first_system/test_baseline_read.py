import pytest

from mlstrat.first_system import read_table


def test_csv_parquet_xlsx_read_the_same_table(tmp_path, make_mixed):
    frame = make_mixed(60, 40)
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    csv = read_table(tmp_path / "t.csv")
    for name in ("t.parquet", "t.xlsx"):
        other = read_table(tmp_path / name)
        assert other.shape == csv.shape
        assert list(other.columns) == list(csv.columns)
        assert other["label"].tolist() == csv["label"].tolist()


def test_unreadable_files_get_clear_errors(tmp_path):
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(ValueError, match=r"Could not parse .*broken\.parquet.* as Parquet"):
        read_table(bad)
    bad_xlsx = tmp_path / "broken.xlsx"
    bad_xlsx.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="as XLSX"):
        read_table(bad_xlsx)
    with pytest.raises(ValueError, match=r"unknown file type '\.json'"):
        read_table(tmp_path / "x.json")
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_table(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty.csv"):
        read_table(empty)
