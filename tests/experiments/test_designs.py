"""Designs: shapes, ranges, integer rounding, lists, user matrices, clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import upheaval
from upheaval.experiments import designs
from upheaval.experiments.designs import DesignError, Factor, make_design, parse_factor


def test_parse_factor_resolves_set_keys_and_kinds():
    f = parse_factor("jail.max_jail_term=0:60")
    assert (f.name, f.kind, f.low, f.high) == ("max_jail_term", "int", 0.0, 60.0)
    assert parse_factor("cop_density=0.02:0.08").name == "cop_density"
    g = parse_factor("ratio_rule=floor,literal")
    assert g.values == ("floor", "literal") and not g.is_range


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("legitimacy=0.9:0.5", "high must exceed low"),
        ("legitimacy=0:2", "legitimacy"),
        ("legitimcy=0:1", "did you mean"),
        ("ratio_rule=0:1", "give its values as a list"),
        ("legitimacy", "expected key=low:high"),
    ],
)
def test_parse_factor_errors_name_the_problem(text, needle):
    with pytest.raises(DesignError, match=needle):
        parse_factor(text)


def test_grid_is_the_full_product_with_integer_levels():
    d = designs.grid(
        [
            parse_factor("legitimacy=0.6:0.9"),
            parse_factor("width=20:23"),
            parse_factor("ratio_rule=floor,literal"),
        ],
        levels=4,
        replicates=3,
    )
    assert d.n_points == 4 * 4 * 2 and d.n_runs == 96
    assert sorted(set(d.points["width"])) == [20, 21, 22, 23]
    assert all(isinstance(w, int) for w in d.points["width"])
    assert sorted(set(d.points["legitimacy"])) == pytest.approx([0.6, 0.7, 0.8, 0.9])
    combos = set(
        zip(d.points["legitimacy"], d.points["width"], d.points["ratio_rule"], strict=True)
    )
    assert len(combos) == d.n_points


def test_latin_hypercube_stratifies_each_range_and_rounds_integers():
    n = 40
    d = designs.latin_hypercube(
        [parse_factor("legitimacy=0.5:0.9"), parse_factor("width=10:13")], samples=n, seed=3
    )
    leg = np.array(d.points["legitimacy"])
    assert d.n_points == n and leg.min() >= 0.5 and leg.max() <= 0.9
    # one sample in each of the n equal strata
    strata = np.floor((leg - 0.5) / 0.4 * n).astype(int)
    assert sorted(strata) == list(range(n))
    widths = np.array(d.points["width"])
    assert set(widths) == {10, 11, 12, 13}
    # every integer equally likely: 10 of 40 each (stratified over [9.5, 13.5])
    assert np.bincount(widths - 10).tolist() == [10, 10, 10, 10]
    again = designs.latin_hypercube(
        [parse_factor("legitimacy=0.5:0.9"), parse_factor("width=10:13")], samples=n, seed=3
    )
    assert again.points == d.points


def test_sobol_and_morris_sizes():
    fs = [
        parse_factor("legitimacy=0.5:0.9"),
        parse_factor("cop_density=0.02:0.08"),
        parse_factor("threshold=0:0.2"),
    ]
    s = designs.sobol(fs, samples=16)
    assert s.n_points == 16 * (2 * 3 + 2)
    s1 = designs.sobol(fs, samples=16, second_order=False)
    assert s1.n_points == 16 * (3 + 2)
    m = designs.morris(fs, samples=5, levels=4)
    assert m.n_points == 5 * (3 + 1)
    assert m.samples.shape == (20, 3)
    # Morris moves one factor per step along a trajectory
    X = m.samples.reshape(5, 4, 3)
    assert np.all((np.abs(np.diff(X, axis=1)) > 0).sum(axis=2) == 1)


def test_matrix_design_from_csv(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("legitimacy,jail.max_jail_term,width\n0.7,10,20\n0.8,inf,30\n")
    d = make_design("matrix", matrix=path, replicates=2)
    assert d.n_runs == 4
    assert d.points["legitimacy"] == [0.7, 0.8]
    assert d.points["width"] == [20, 30]
    assert math.isinf(d.points["max_jail_term"][1])
    bad = tmp_path / "bad.csv"
    bad.write_text("legitimcy\n0.7\n")
    with pytest.raises(DesignError, match="legitimcy"):
        make_design("matrix", matrix=bad)


def test_one_bad_cell_fails_its_row_not_the_column(tmp_path):
    from upheaval.experiments import SerialExecutor, run_sweep
    from upheaval.experiments.store import query

    path = tmp_path / "m.csv"
    path.write_text("legitimacy,width\n0.7,20\nabc,20\n,20\n0.8,twenty\n0.75,20\n")
    d = make_design("matrix", matrix=path)
    assert d.points["legitimacy"] == [0.7, None, None, 0.8, 0.75]
    assert d.points["width"] == [20, 20, 20, None, 20]
    assert d.point(1)["legitimacy"] == "abc" and d.point(3)["width"] == "twenty"
    sc = upheaval.load("epstein2002-run2")
    out = tmp_path / "s"
    report = run_sweep(sc, d, out, steps=2, executor=SerialExecutor())
    assert (report.done, report.failed) == (2, 3)
    failed = query(out, "SELECT point, error FROM failed ORDER BY point").to_pylist()
    assert [f["point"] for f in failed] == [1, 2, 3]
    assert "design point 1: legitimacy: expected a number, got 'abc'" in failed[0]["error"]
    assert "design point 2: legitimacy: empty cell" in failed[1]["error"]
    assert "design point 3: width" in failed[2]["error"] and "'twenty'" in failed[2]["error"]
    runs = query(out, "SELECT point, legitimacy, width FROM runs ORDER BY point").to_pylist()
    assert runs == [
        {"point": 0, "legitimacy": 0.7, "width": 20},
        {"point": 4, "legitimacy": 0.75, "width": 20},
    ]


def test_make_design_checks_its_arguments():
    with pytest.raises(DesignError, match="--samples"):
        make_design("lhs", [parse_factor("legitimacy=0.5:0.9")])
    with pytest.raises(DesignError, match="expected one of"):
        make_design("random", [])
    with pytest.raises(DesignError, match="more than once"):
        designs.grid([parse_factor("legitimacy=0.5:0.9"), parse_factor("citizens.legitimacy=0:1")])
    with pytest.raises(DesignError, match="replicates"):
        designs.grid([parse_factor("legitimacy=0.5:0.9")], replicates=0)


def test_factor_bounds_round_half_up():
    f = Factor(name="width", kind="int", low=10, high=12)
    assert f.bounds() == (9.5, 12.5)
    assert f.from_unit(np.array([9.5, 10.49, 10.5, 12.49])) == [10, 10, 11, 12]


def test_an_ensemble_is_a_grid_without_factors():
    d = make_design("grid", [], replicates=7)
    assert (d.n_points, d.n_runs, d.point(0)) == (1, 7, {})
