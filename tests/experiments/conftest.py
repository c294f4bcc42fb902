from __future__ import annotations

import pytest

import upheaval
from upheaval.experiments import designs
from upheaval.experiments.designs import parse_factor


@pytest.fixture(scope="session")
def small_scenario():
    """Run 2 on a 20×20 lattice: runs of a few milliseconds, outbursts still happen."""
    return upheaval.apply_overrides(upheaval.load("epstein2002-run2"), {"width": 20, "height": 20})


@pytest.fixture
def small_design():
    return designs.grid(
        [parse_factor("legitimacy=0.6:0.9"), parse_factor("cop_density=0.02:0.06")],
        levels=3,
        replicates=3,
    )
