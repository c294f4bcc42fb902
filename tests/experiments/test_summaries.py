"""Per-run summaries on a hand-made history with known answers."""

from __future__ import annotations

import pytest

from upheaval.experiments import summarise
from upheaval.model.ticks import COLUMNS, TickRow, tick_table


def _row(tick, active, quiet=100, jailed=0, cops=10, arrests=0, killed_by_cops=0, legit=0.8):
    r = dict.fromkeys(COLUMNS, 0)
    r.update(
        tick=tick,
        active_blue=active,
        quiet_blue=quiet,
        jailed_blue=jailed,
        cops=cops,
        arrests=arrests,
        killed_by_cops=killed_by_cops,
        legitimacy=legit,
    )
    return TickRow(**r)


def test_summary_of_a_known_history():
    actives = [0, 10, 60, 80, 40, 5, 70, 55]  # outbursts at ticks 2-3 (complete) and 6-7
    h = [
        _row(t, a, jailed=t, arrests=2 if t else 99, killed_by_cops=t % 2, legit=0.8 - 0.01 * t)
        for t, a in enumerate(actives)
    ]
    s = summarise(tick_table(h), threshold=50)
    assert s["ticks"] == 7
    assert (s["peak_active"], s["peak_tick"]) == (80, 3)
    assert s["mean_active"] == pytest.approx(sum(actives[1:]) / 7)
    assert (s["outbursts"], s["complete_outbursts"], s["first_outburst"]) == (2, 1, 2)
    assert s["outburst_duration_mean"] == 2.0  # ticks 2, 3; ends at 4
    assert s["waiting_time_mean"] == 2.0  # from 4 to 6
    assert s["arrests"] == 14  # the initial row's counters are not part of the run
    assert s["killed_by_cops"] == 4
    assert (s["final_active"], s["final_quiet"], s["final_jailed"], s["final_cops"]) == (
        55,
        100,
        7,
        10,
    )
    assert s["jailed_max"] == 7
    assert s["final_legitimacy"] == pytest.approx(0.73)


def test_summary_without_outbursts_has_nulls():
    s = summarise(tick_table([_row(t, 3) for t in range(4)]))
    assert s["outbursts"] == 0
    assert s["first_outburst"] is None and s["outburst_duration_mean"] is None
    with pytest.raises(ValueError, match="non-empty tick table"):
        summarise(tick_table([]))
