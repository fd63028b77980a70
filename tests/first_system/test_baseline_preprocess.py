import numpy as np
import pandas as pd
import pytest

from mlstrat.first_system import DateFeatures, build_preprocessor, infer_roles
from mlstrat.first_system._columns import coerce_features


def test_fitted_on_train_only_and_unseen_categories_do_not_fail(make_mixed):
    frame = make_mixed(400, 0)
    plan = infer_roles(frame, target="label")
    feats = coerce_features(frame, plan)
    train, dev = feats.iloc[:300], feats.iloc[300:].copy()
    dev.loc[dev.index[:5], "city"] = "never seen"
    pre = build_preprocessor(plan).fit(train)
    out = pre.transform(dev)
    assert np.isfinite(out).all()
    scaler = pre.named_transformers_["numeric"][-1]
    assert np.allclose(scaler.mean_[0], train["x1"].mean())  # train statistics, not dev
    names = list(pre.get_feature_names_out())
    plan_columns = [n for n in names if n.startswith("categorical__plan_")]
    assert len(plan_columns) <= 20  # 30 plans capped by max_categories
    assert {"date__signup_year", "date__signup_month", "date__signup_dayofweek"} <= set(names)
    assert "numeric__missingindicator_age" in names
    assert not any("comment" in n or "customer_id" in n for n in names)


def test_date_parts_against_pandas():
    frame = pd.DataFrame({"d": ["2024-02-29", "2023-12-31", None, "2022-06-15"],
                          "y": [0, 1, 0, 1]})
    plan = infer_roles(frame, target="y")
    assert plan.column("d").role == "date"
    parts = DateFeatures(("year", "month", "dayofweek", "ordinal")).fit_transform(
        coerce_features(frame, plan))
    expected = pd.to_datetime(frame["d"])
    assert parts[0].tolist() == [2024, 2, expected[0].day_of_week,
                                 (expected[0] - pd.Timestamp("1970-01-01")).days]
    assert np.isnan(parts[2]).all()


def test_frequent_categories_refuses_another_number_of_columns():
    """Fitted on two columns, a one-column table used to lose a column silently."""
    from mlstrat.first_system._preprocess import FrequentCategories

    grouper = FrequentCategories(max_categories=2).fit(
        pd.DataFrame({"a": ["x", "x", "y"], "b": ["p", "q", "q"]}))
    assert grouper.transform(pd.DataFrame({"a": ["x", "z"], "b": ["q", None]})).tolist() == [
        ["x", "q"], ["(other)", "(other)"]]  # None never seen in fit: other
    with pytest.raises(ValueError, match="X has 1 features, but FrequentCategories is "
                                         "expecting 2 features"):
        grouper.transform(pd.DataFrame({"a": ["x"]}))
