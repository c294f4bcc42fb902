"""Golden trajectories (tests/golden): fixed runs of every preset and of every
mechanism combination give tick tables whose checksums are pinned. A change to the
engine that moves any trajectory fails here, whatever the parity suites say."""

from __future__ import annotations

import json

import pytest

from golden.trajectories import CASES, PINS, run_case

PINNED = json.loads(PINS.read_text("utf-8"))


def test_every_case_is_pinned():
    assert sorted(PINNED) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectory_matches_its_pin(name):
    assert run_case(name) == PINNED[name], (
        f"{name}: the tick table moved; if that is meant, regenerate with "
        "`python -m tests.golden.trajectories --regenerate` and say why in the commit"
    )
