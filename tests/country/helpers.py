"""Small countries for the tests: built in Python, a few hundred agents a place."""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np

import upheaval
from reference.compare import engine_snapshot
from reference.country import ReferenceCountry
from upheaval.core.codes import DEAD
from upheaval.model.params import Params, validate_params
from upheaval.model.timeline import TimelineEvent
from upheaval.scenario.country import Country, LinkSpec, PlaceSpec
from upheaval.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]


def script(name: str) -> ModuleType:
    """The study script ``scripts/NAME.py`` as a module (registered under its name, so
    that the scripts importing one another share it)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def three_towns(**params: Any) -> Country:
    """Alpha—Beta by road (80 km), Beta—Gamma by rail (600 km); Gamma is South."""
    return Country(
        places=(
            PlaceSpec("Alpha", "North", 43.2, 76.9, 6, 4000, (("legitimacy", 0.7),)),
            PlaceSpec("Beta", "North", 43.3, 77.5, 6, 1500),
            PlaceSpec("Gamma", "South", 42.3, 69.6, 5, 900, (("cop_density", 0.03),)),
        ),
        links=(
            LinkSpec("Alpha", "Beta", "road", 80.0, 1.5),
            LinkSpec("Beta", "Gamma", "rail", 600.0, 10.0),
        ),
        source="three towns",
        **params,
    )


AKIMAT = "name=akimat x=0.5 y=0.5; name=airport kind=airport x=0.1 y=0.8 radius=1"


def sited_towns() -> Country:
    """Alpha with an akimat and an airport, Beta without sites, Gamma with a statue."""
    return Country(
        places=(
            PlaceSpec(
                "Alpha", "North", 43.2, 76.9, 6, 4000, (("legitimacy", 0.62), ("site_list", AKIMAT))
            ),
            PlaceSpec("Beta", "North", 43.3, 77.5, 6, 1500),
            PlaceSpec(
                "Gamma",
                "South",
                42.3,
                69.6,
                5,
                900,
                (("cop_density", 0.03), ("site_list", "name=statue x=0.3 y=0.6")),
            ),
        ),
        links=(
            LinkSpec("Alpha", "Beta", "road", 80.0, 1.5),
            LinkSpec("Beta", "Gamma", "rail", 600.0, 10.0),
        ),
        source="sited towns",
    )


def country_scenario(
    country: Country,
    timeline: tuple[TimelineEvent, ...] = (),
    **params: Any,
) -> Scenario:
    base = dict(scale=10.0, min_side=15, steps=60)
    base.update(params)
    return Scenario(
        name="test country",
        params=validate_params(Params(**base)),
        timeline=timeline,
        country=country,
    )


def with_params(sc: Scenario, **changes: Any) -> Scenario:
    return dataclasses.replace(sc, params=validate_params(sc.params.replace(**changes)))


def run_and_show(scenario: Path, out: Path) -> str:
    """``upheaval run SCENARIO --out OUT`` then what ``upheaval show OUT`` prints, as a
    user of a worked example in the docs would type them."""
    done = subprocess.run(
        [sys.executable, "-m", "upheaval.cli", "run", str(scenario), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return subprocess.run(
        [sys.executable, "-m", "upheaval.cli", "show", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def twin_agrees_cop_by_cop(sc: Scenario, ticks: int, seed: int) -> upheaval.Simulation:
    """Run the engine and the reference twin side by side; they agree on every row and
    on every agent (a cop's mind, H_c and loyalty, included) and every cop's unit and
    faction, place by place and tick by tick; returns the engine's run."""
    sim = upheaval.Simulation(sc, seed=seed)
    twin = ReferenceCountry(sc, seed)
    for _ in range(ticks):
        sim.step()
        twin.step()
        for pl, model in zip(sim.places, twin.models, strict=True):
            assert engine_snapshot(SimpleNamespace(place=pl)) == model.snapshot(), pl.name
            a = pl.agents
            live = np.flatnonzero(a.status != DEAD)
            got = {int(i): (int(a.unit[i]), int(a.faction[i])) for i in live}
            want = {s: (v[4], v[5]) for s, v in model.mechanism_snapshot().items()}
            assert got == want, (sim.tick, pl.name)
    got, want = sim.table(), twin.table()
    for name in got.column_names:
        assert got.column(name).to_pylist() == want.column(name).to_pylist(), name
    return sim
