import numpy as np
import pandas as pd
import pytest

from mlstrat.first_system import ROLES, infer_role, infer_roles


def test_roles_of_a_messy_table_with_reasons(make_mixed):
    frame = make_mixed(300, 0)
    plan = infer_roles(frame, target="label", max_categories=20)
    roles = {c.name: c.role for c in plan.columns}
    assert roles == {
        "customer_id": "id", "x1": "numeric", "x2": "numeric", "age": "numeric",
        "city": "categorical", "plan": "categorical", "signup": "date",
        "comment": "text", "constant": "drop", "empty": "drop", "source": "drop",
    }
    assert plan.column("empty").reason.startswith("entirely missing")
    assert plan.column("constant").reason == "constant: every value is 1"
    assert "grouped as infrequent" in plan.column("plan").reason
    assert "free text" in plan.column("comment").reason
    assert plan.column("age").n_missing > 0
    assert "label" not in roles
    text = str(plan)
    assert "entirely missing" in text and "customer_id" in text


def test_overrides_are_applied_and_reported(make_mixed):
    frame = make_mixed(300, 0)
    plan = infer_roles(frame, target="label", roles=["age=categorical"], drop="x2,city")
    assert plan.column("age").role == "categorical"
    assert plan.column("age").overridden and plan.column("age").inferred == "numeric"
    assert plan.column("x2").role == "drop" and "dropped by you" in plan.column("x2").reason
    assert "city" not in plan.features and "age" in plan.features
    assert "(* set by you)" in str(plan)


def test_bad_overrides_name_the_column_and_the_choices(make_mixed):
    frame = make_mixed(100, 0)
    with pytest.raises(ValueError, match=r"Unknown role 'nummeric'.*Valid roles"):
        infer_roles(frame, target="label", roles={"age": "nummeric"})
    with pytest.raises(ValueError, match=r"'agee' is not in the data.*Did you mean 'age'"):
        infer_roles(frame, target="label", roles={"agee": "numeric"})
    with pytest.raises(ValueError, match="is the target"):
        infer_roles(frame, target="label", drop=["label"])


@pytest.mark.parametrize("values, role", [
    (["1.5", "2.25", "3", None] * 10, "numeric"),          # numbers stored as text
    (list(range(100, 160)), "id"),                          # consecutive unique integers
    ([True, False] * 10, "categorical"),
    (pd.to_datetime(["2021-01-01", "2022-03-04"] * 5), "date"),
    ([np.nan] * 5, "drop"),
])
def test_infer_role_of_single_columns(values, role):
    assert infer_role(pd.Series(values, name="col"))[0] == role


def test_roles_registry_lists_every_role():
    assert set(ROLES) == {"numeric", "categorical", "date", "text", "id", "drop"}
