"""Golden trajectories (tests/golden): fixed runs of every preset and of every
mechanism combination give tick tables whose checksums are pinned. A change to the
engine that moves any trajectory fails here, whatever the parity suites say."""

from __future__ import annotations

import json

import pytest

from golden.trajectories import CASES, PINS, checksum, run_case

PINNED = json.loads(PINS.read_text("utf-8"))


def test_every_case_is_pinned():
    assert sorted(PINNED) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectory_matches_its_pin(name):
    assert run_case(name) == PINNED[name], (
        f"{name}: the tick table moved; if that is meant, regenerate with "
        "`python -m tests.golden.trajectories --regenerate` and say why in the commit"
    )


def test_a_checksum_sees_one_changed_count():
    # The pins are not vacuous: one count changed by one on one tick moves the checksum.
    import pyarrow as pa

    import upheaval

    sim = upheaval.Simulation(upheaval.load("epstein2002-run2"), seed=3)
    sim.run(20)
    table = sim.table()
    base = checksum(table)
    arrests = table.column("arrests").to_pylist()
    arrests[10] += 1
    changed = table.set_column(
        table.schema.get_field_index("arrests"), "arrests", pa.array(arrests, pa.int64())
    )
    assert checksum(changed) != base
    assert checksum(table) == base
