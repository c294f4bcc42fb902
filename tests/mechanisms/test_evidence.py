"""Evidence that each mechanism of issue 3 (part A) does what it says: 20 fixed
seeds, paired arms, effect sizes recorded in tests/mechanisms/results/*.json (see
scripts/mechanisms_report.py → docs/mechanisms.md) and the direction asserted.

Where a claim the issue names does not appear in this model (hysteresis after a
reinforcement), the measurement is recorded and the test asserts what the model
does instead, so that a change in that behaviour is noticed."""

from __future__ import annotations

import pytest

from mechanisms import evidence as ev


@pytest.fixture(scope="module")
def legit():
    r = ev.legitimacy_feedback()
    ev.write("legitimacy_feedback", r)
    return r


def test_legitimacy_stays_below_its_start_after_the_first_outburst(legit):
    # Lemos et al. 2016: repression leaves legitimacy lower than before.
    assert all(t is not None for t in legit["first_outburst_tick"])
    assert legit["legitimacy_deficit_after_outburst"]["share_positive"] == 1.0
    assert legit["legitimacy_deficit_at_end"]["share_positive"] == 1.0


def test_legitimacy_feedback_raises_mobilisation(legit):
    eff = legit["mean_actives"]
    assert eff["n_seeds"] >= 20
    assert eff["mean_difference"] > 0 and eff["cohens_dz"] > 0.8
    assert eff["share_on_greater"] >= 0.9


@pytest.fixture(scope="module")
def shock():
    r = ev.hardship_shock()
    ev.write("hardship_shock", r)
    return r


def test_hardship_shock_raises_mobilisation_and_rollback_undoes_it(shock):
    during, after = shock["actives_during_shock"], shock["actives_after_rollback"]
    assert during["n_seeds"] >= 20
    assert during["mean_difference"] > 0 and during["cohens_dz"] > 0.8
    # After a full rollback the shocked runs are back near the unshocked ones.
    assert abs(after["mean_difference"]) < 0.25 * during["mean_difference"]


def test_group_shock_raises_mobilisation_less_than_a_general_one(shock):
    grp, all_ = shock["actives_during_group_shock"], shock["actives_during_shock"]
    assert grp["mean_difference"] > 0 and grp["cohens_dz"] > 0.5
    assert grp["mean_difference"] < all_["mean_difference"]


@pytest.fixture(scope="module")
def lethal():
    r = ev.lethal_force()
    ev.write("lethal_force", r)
    return r


def test_lethal_force_kills(lethal):
    d = lethal["deaths"]
    assert d["n_seeds"] >= 20 and d["mean_off"] == 0 and d["share_on_greater"] == 1.0


def test_strong_backlash_raises_later_mobilisation(lethal):
    eff = lethal["later_actives_backlash_20_vs_0"]
    assert eff["mean_difference"] > 0 and eff["cohens_dz"] > 0.5


def test_deterrence_lowers_mobilisation(lethal):
    eff = lethal["actives_deterrence_0.5_vs_0"]
    assert eff["mean_difference"] < 0 and eff["cohens_dz"] < -0.8


@pytest.fixture(scope="module")
def hysteresis():
    r = ev.reinforcement_hysteresis()
    ev.write("reinforcement_hysteresis", r)
    return r


def test_reinforcement_restores_calm(hysteresis):
    eff = hysteresis["classic"]["actives_after_arrival_with_vs_without"]
    assert eff["n_seeds"] >= 20
    assert eff["mean_difference"] < 0 and eff["cohens_dz"] < -0.8


def test_late_reinforcement_restores_calm_more_slowly_than_removal_broke_it(hysteresis):
    # The hysteresis claim, measured with one threshold both ways (5 % of the
    # citizens active), so a lag cannot come from two thresholds. Measured: removal
    # breaks calm within its own tick, the reinforcement needs a few ticks (citizens
    # decide afresh every tick, so the lag is short), and longer once legitimacy has
    # fallen during the rebellion.
    classic, fed = hysteresis["classic"], hysteresis["legitimacy_feedback"]
    for rec in (classic, fed):
        assert len(rec["break_ticks"]) == len(rec["restore_ticks"]) >= 20
        assert all(b < 100 for b in rec["break_ticks"]), "the removal should break calm"
        assert rec["share_restore_slower"] >= 0.9
    assert (
        fed["restore_minus_break"]["mean_difference"]
        > classic["restore_minus_break"]["mean_difference"]
    )


def test_break_and_restore_use_one_threshold():
    # A series that crosses the line down on the arrival's tick exactly as it crossed
    # it up on the removal's tick measures no lag: only the dynamics can make one.
    n_cit, ticks = 1000, 300
    line = int(ev.UNREST_SHARE * n_cit)
    active = [0] * 50 + [line] * 100 + [line - 1] * (ticks + 1 - 150)
    assert ev._break_restore(active, n_cit, ticks) == (0, 0)
    # and a series that stays at the line has not restored calm
    active = [0] * 50 + [line] * (ticks + 1 - 50)
    assert ev._break_restore(active, n_cit, ticks) == (0, None)


@pytest.fixture(scope="module")
def forces():
    r = ev.security_forces()
    ev.write("security_forces", r)
    return r


@pytest.mark.slow
def test_disloyal_forces_defect_and_let_mobilisation_peak_higher(forces):
    d = forces["defections_disloyal_vs_loyal"]
    assert d["n_seeds"] >= 20
    assert d["mean_on"] > 0 and d["mean_difference"] > 0 and d["share_on_greater"] >= 0.9
    peak = forces["peak_actives_disloyal_vs_loyal"]
    assert peak["mean_difference"] > 0 and peak["cohens_dz"] > 0.5


@pytest.mark.slow
def test_foreign_troops_never_defect(forces):
    assert forces["foreign_defections"] == [0] * len(forces["seeds"])
    # the same disloyal range does make local police defect, and foreigners stand aside
    assert forces["defections_local_vs_foreign"]["share_on_greater"] >= 0.9
    assert all(n > 0 for n in forces["foreign_stood_aside"])


@pytest.mark.slow
def test_crowds_disarm_cops_more_the_lower_the_ratio(forces):
    by = forces["disarmed_by_ratio"]
    assert by["8"]["share_positive"] == 1.0
    assert by["8"]["mean"] > by["32"]["mean"] > by["200"]["mean"] == 0
    # deaths on the forces' side: with disarm_kill 0.5 about half the disarmed die
    k = forces["cops_killed_at_disarm_kill_0.5"]
    assert k["disarmed"] > 50 and 0.4 < k["share_killed"] < 0.6, k


# -- 6. provocateurs and framing -------------------------------------------------------------
@pytest.fixture(scope="module")
def provocation():
    r = ev.provocateurs()
    ev.write("provocateurs", r)
    return r


@pytest.mark.slow
def test_provocateurs_raise_the_lethal_force_rate(provocation):
    d = provocation["lethal_rate_provocateurs_vs_none"]
    assert d["n_seeds"] >= 20 and provocation["provocations_per_run"] > 0
    assert d["mean_off"] == pytest.approx(0.02, abs=0.01)  # the standing order alone
    assert d["mean_difference"] > 0 and d["share_on_greater"] >= 0.9 and d["cohens_dz"] > 1


@pytest.mark.slow
def test_provocateurs_demobilise_ordinary_citizens(provocation):
    d = provocation["ordinary_actives_provocateurs_vs_none"]
    assert d["mean_difference"] < 0 and d["share_on_greater"] <= 0.2
    # The bystander term alone (β = 0.5 against 0) is recorded, not asserted: at the
    # framing reached here its effect is lost in the noise (docs/mechanisms.md).
    assert "ordinary_actives_bystander_effect_vs_none" in provocation


# -- 9. elite split ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def elite():
    r = ev.elite_split()
    ev.write("elite_split", r)
    return r


@pytest.mark.slow
def test_a_disloyal_rival_faction_breaks_ranks_and_arrests_less(elite):
    d = elite["broke_ranks_split_vs_united"]
    assert d["n_seeds"] >= 20
    assert d["mean_difference"] > 0 and d["share_on_greater"] >= 0.9 and d["cohens_dz"] > 1
    assert elite["arrests_split_vs_united"]["mean_difference"] < 0
    # The peak of actives is recorded, not asserted: cops standing aside still count
    # as cops in citizens' P, so the split need not raise it (docs/mechanisms.md).
    assert elite["peak_actives_split_vs_united"]["n_seeds"] == d["n_seeds"]


@pytest.mark.slow
def test_the_ruler_reclaiming_command_restores_discipline(elite):
    d = elite["broke_ranks_after_reclaim_vs_split"]
    assert d["mean_difference"] < 0 and d["share_on_greater"] <= 0.1 and d["cohens_dz"] < -1


# -- 7. information beyond sight --------------------------------------------------------------
@pytest.fixture(scope="module")
def information():
    rec = ev.information_channel()
    ev.write("information_channel", rec)
    return rec


def test_mobilising_channel_raises_the_peak(information):
    rec = information["peak_mobilising"]
    assert rec["mean_difference"] > 0 and rec["share_on_greater"] >= 0.75, rec


def test_broadcast_repression_damps_mobilisation(information):
    for key in ("peak_damping", "mean_damping"):
        rec = information[key]
        assert rec["mean_difference"] < 0 and rec["share_on_greater"] <= 0.1, (key, rec)


def test_shutdown_does_not_disperse_protest_here(information):
    """Hassanpour's dispersion is not reproduced (docs/odd.md §7.15): after a shutdown,
    clusters per active site do not rise on average. Recorded, and asserted so that a
    change which makes the model reproduce it is noticed and the docs updated."""
    rec = information["clusters_per_active_site_shutdown"]
    assert rec["mean_difference"] <= 0, rec
    rec = information["largest_share_shutdown"]  # the largest crowd holds more, not less
    assert rec["mean_difference"] > 0 and rec["share_on_greater"] >= 0.75, rec


@pytest.mark.slow
def test_shutdown_disperses_protest_drawn_to_a_focal_site(information):
    """With a focal site the channel points protesters to (Hassanpour's Tahrir
    Square), cutting the channel scatters the crowd: more clusters per active site and
    a smaller share in the largest one, in (nearly) every seed."""
    rec = information["focal_clusters_per_active_site_shutdown"]
    assert rec["mean_difference"] > 0 and rec["share_on_greater"] >= 0.9 and rec["cohens_dz"] > 1
    rec = information["focal_largest_share_shutdown"]
    assert rec["mean_difference"] < 0 and rec["share_on_greater"] <= 0.1 and rec["cohens_dz"] < -1


# -- 8. organised groups and strikes -------------------------------------------------------
@pytest.fixture(scope="module")
def organised():
    rec = ev.organisation_strikes()
    ev.write("organisation_strikes", rec)
    return rec


def test_organised_members_mobilise_together(organised):
    rec = organised["synchrony_members_protest_vs_unorganised"]
    assert rec["n_seeds"] >= 20
    assert rec["mean_difference"] > 0 and rec["share_on_greater"] == 1.0, rec


def test_strikes_lower_legitimacy_and_take_members_off_the_street(organised):
    rec = organised["legitimacy_at_end_strikes_vs_none"]
    assert rec["mean_difference"] < 0 and rec["cohens_dz"] < -0.8, rec
    assert rec["share_on_greater"] == 0.0, rec
    rec = organised["later_actives_strikes_vs_none"]  # strikers are quiet, not on the street
    assert rec["mean_difference"] < 0 and rec["cohens_dz"] < -0.8, rec


def test_strikes_by_quorum_do_not_raise_later_street_mobilisation_here(organised):
    """The issue's "strikes hurt the regime, so street mobilisation rises later" is not
    what the quorum-driven strikes do here (docs/odd.md §7.17): the non-members' later
    activity is not higher (strikers no longer swell the street crowds that lower
    everyone's perceived risk). Recorded; asserted so that a change is noticed."""
    rec = organised["later_non_member_actives_strikes_vs_none"]
    assert rec["mean_difference"] <= 0 and rec["share_on_greater"] <= 0.5, rec


def test_general_strike_lowers_legitimacy_and_raises_street_mobilisation(organised):
    rec = organised["legitimacy_tick_150_general_strike_vs_none"]
    assert rec["mean_difference"] < 0 and rec["share_on_greater"] == 0.0, rec
    rec = organised["non_member_actives_101_200_general_strike_vs_none"]
    assert rec["mean_difference"] > 0 and rec["cohens_dz"] > 0.8, rec
    assert rec["share_on_greater"] >= 0.9, rec


def test_higher_quorum_means_fewer_group_actions(organised):
    for key in ("group_ticks_acting_quorum_0.4_vs_0.2", "striking_quorum_0.4_vs_0.2"):
        rec = organised[key]
        assert rec["mean_difference"] < 0 and rec["share_on_greater"] == 0.0, (key, rec)


# -- 10. divided identities -------------------------------------------------------------------
@pytest.fixture(scope="module")
def identities():
    rec = ev.divided_identities()
    ev.write("divided_identities", rec)
    return rec


def test_full_solidarity_is_identical_to_no_identities(identities):
    assert len(identities["full_solidarity_identical_to_off"]) >= 20
    assert all(identities["full_solidarity_identical_to_off"])
    assert all(identities["identical_before_propaganda"])


def test_division_lowers_mobilisation(identities):
    # Kim & Hanneman 2011: in-group/out-group assessment weakens protest.
    for key in ("peak_actives_divided_vs_full", "mean_actives_divided_vs_full"):
        rec = identities[key]
        assert rec["n_seeds"] >= 20
        assert rec["mean_difference"] < 0 and rec["cohens_dz"] < -0.8, (key, rec)
        assert rec["share_on_greater"] <= 0.1, (key, rec)


def test_propaganda_mid_run_lowers_later_mobilisation(identities):
    for key in ("mean_actives_after_propaganda_vs_none", "peak_actives_after_propaganda_vs_none"):
        rec = identities[key]
        assert rec["mean_difference"] < 0 and rec["cohens_dz"] < -0.8, (key, rec)
        assert rec["share_on_greater"] <= 0.1, (key, rec)


def test_division_demobilises_the_minority_most(identities):
    """With a 30 % Green minority, division lowers the minority's share of the actives:
    its members see fewer of their own in any crowd."""
    rec = identities["minority_share_of_actives_divided_vs_full"]
    assert rec["mean_off"] == pytest.approx(0.3, abs=0.03)
    assert rec["mean_difference"] < 0 and rec["share_on_greater"] <= 0.1, rec
