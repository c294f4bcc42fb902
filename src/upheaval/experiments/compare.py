"""Counterfactuals: ensembles of named variants of a scenario, paired by replicate.

A *variant* is a small patch of a scenario:

``no-intervention``
    drops every ``reinforce`` action (and the ``withdraw`` actions of the units they
    bring);
``no-lethal-force``
    ``lethal_force.probability`` = 0 and every timeline ``set``/``ramp`` of it dropped;
``early-concession``
    every ``concession`` action moved to half its tick (rounded down, at least tick 1);
``early-concession@WHEN``
    every ``concession`` and price ``rollback`` action later than WHEN moved to WHEN —
    a tick, or a clock time (``2022-01-02T06:00Z``) in a scenario with ``run.start``:
    in a scenario in clock time, halving a tick is no date anyone asked about, and
    a price rollback is the concession a price shock calls for;
``no-shutdown``
    the information channel stays up: every ``shutdown`` and ``restore`` action
    dropped and ``information.online`` true; needs a shutdown to remove;
``no-provocateurs``
    ``provocateurs.count`` = 0 (no provocateurs, so no framing);
``general-strike``
    a ``general_strike`` action (every organised group strikes, to the end of the
    run) from the tick of the scenario's first timeline event — its trigger — or
    from tick 1 if it has none; needs ``organisation.groups`` > 0 (who strikes) and
    refused if the scenario already calls one; ``general-strike@WHEN`` strikes from
    WHEN (a tick or clock time, as above);
``NAME:key=value,…``
    a user's variant: parameters overridden as with ``--set``;
``BUILTIN[@WHEN]:key=value,…``
    a built-in variant of the scenario with those parameters overridden first (e.g.
    ``general-strike:organisation.groups=2`` in a scenario without organised groups):
    the overrides are part of the variant, not of the baseline.

A variant that would change nothing (``no-intervention`` of a scenario without
reinforcements …) is refused, naming what is missing.

Every variant, and the baseline (the scenario as given), is run through
:func:`upheaval.experiments.run_sweep` with the same root seed, so replicate r of
every variant gets the same ``SeedSequence`` (common random numbers): differences
against the baseline are paired by replicate. Outcomes per run (statistics of
:mod:`summary_stats`, version :data:`SUMMARY_VERSION`):

* ``regime_holds`` — 1 if peak actives stay below ``hold_share`` (default 0.25) of
  the initial citizens (round(citizen density × sites)), else 0;
* ``deaths`` — killed_blue + killed_green + killed_by_cops + cops_killed (both sides);
* ``arrests``, ``peak_active`` and ``unrest_duration`` (ticks from the first to the
  last tick with actives ≥ the outburst threshold).

A **country** scenario (one with places) has outcomes in people instead
(:func:`upheaval.results.places.country_outcomes`: deaths by side, detentions,
hours of unrest, places lost to the regime and place-hours lost, and ``lost:NAME``
for each place named in ``place_lost``).

**Over a posterior** (``draws``: a table of parameter values, one row a draw, e.g.
:func:`upheaval.experiments.posterior.resample_draws` of a calibration's particles),
each variant is a sweep of the draws as design points (a ``matrix`` design, the
draws written to ``draws.parquet`` in the comparison directory) with ``replicates``
seeds each: replicate (draw i, seed r) of every variant is run with draw i's
parameters and the seed of sweep run (i, r), so it is the same pair in every variant
and the differences stay paired. A variant that changes a parameter the draws set
is refused (the draw would undo it).

Each variant's mean has a percentile-bootstrap interval over replicates; each
difference against the baseline a paired percentile-bootstrap interval (the same
resampled replicates for both arms). The bootstrap's generator is seeded from the
comparison's seed, so the table is reproducible.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from upheaval.experiments.designs import from_matrix, grid
from upheaval.experiments.runner import run_sweep
from upheaval.experiments.summary_stats import SUMMARY_VERSION, sweep_statistics
from upheaval.model.ticks import PLACE
from upheaval.model.timeline import ActionEvent, RampEvent, SetEvent, tick_at
from upheaval.results.outbursts import DEFAULT_THRESHOLD
from upheaval.results.places import (
    COUNTRY_OUTCOMES,
    LOST_BELOW,
    LOST_PREFIX,
    ONSET_SHARE,
    country_outcomes,
)
from upheaval.scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd

BASELINE = "baseline"
BUILTIN = (
    "no-intervention",
    "no-lethal-force",
    "early-concession",
    "no-shutdown",
    "no-provocateurs",
    "general-strike",
)
OUTCOMES = ("regime_holds", "deaths", "arrests", "peak_active", "unrest_duration")
#: comparison.json's ``format``: marks the directory as a comparison.
FORMAT = "upheaval-comparison/1"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


class VariantError(ValueError):
    """A variant that cannot be built: ``name`` names it, ``reason`` says why."""

    def __init__(self, name: str, reason: str):
        self.name, self.reason = name, reason
        super().__init__(f"--what-if {name}: {reason}")


@dataclass(frozen=True)
class Variant:
    name: str
    scenario: Scenario
    patch: str  # what was changed, in words


def _without_reinforcements(sc: Scenario) -> tuple[Scenario, str]:
    units = {e.unit for e in sc.timeline if isinstance(e, ActionEvent) and e.action == "reinforce"}
    if not units:
        raise VariantError("no-intervention", "the scenario has no reinforce action to drop")
    kept = tuple(
        e
        for e in sc.timeline
        if not (isinstance(e, ActionEvent) and e.action in ("reinforce", "withdraw"))
    )
    return dataclasses.replace(sc, timeline=kept), f"dropped units {', '.join(sorted(units))}"


def _without_lethal_force(sc: Scenario) -> tuple[Scenario, str]:
    timed = [
        e
        for e in sc.timeline
        if isinstance(e, SetEvent | RampEvent) and e.param == "lethal_probability"
    ]
    if sc.params.lethal_force.probability == 0 and not timed:
        raise VariantError("no-lethal-force", "lethal_force.probability is already 0 throughout")
    kept = tuple(e for e in sc.timeline if not any(e is t for t in timed))
    out = dataclasses.replace(sc, timeline=kept).with_params(lethal_probability=0.0)
    return out, f"lethal_force.probability 0, {len(timed)} timeline change(s) of it dropped"


def _early_concession(sc: Scenario, when: int | None = None) -> tuple[Scenario, str]:
    moved = []
    events = []
    # with a date: the price rollbacks move too (module docstring)
    actions = ("concession",) if when is None else ("concession", "rollback")
    for e in sc.timeline:
        if isinstance(e, ActionEvent) and e.action in actions:
            t = max(1, e.tick // 2) if when is None else min(e.tick, when)
            if t != e.tick:
                moved.append(f"{e.action} {e.tick}→{t}")
                e = e.replace(tick=t)
        events.append(e)
    if not moved:
        if when is None:
            raise VariantError("early-concession", "the scenario has no concession action to move")
        raise VariantError(
            "early-concession",
            f"the scenario has no concession or rollback action after tick {when} to move",
        )
    # The timeline's order is by tick: keep it sorted (file order among ties).
    events.sort(key=lambda e: e.start if isinstance(e, RampEvent) else e.tick)
    return dataclasses.replace(sc, timeline=tuple(events)), f"moved: {', '.join(moved)}"


def _without_shutdown(sc: Scenario) -> tuple[Scenario, str]:
    toggles = [
        e for e in sc.timeline if isinstance(e, ActionEvent) and e.action in ("shutdown", "restore")
    ]
    offline_at_start = sc.params.information.enabled and not sc.params.information.online
    if not any(e.action == "shutdown" for e in toggles) and not offline_at_start:
        raise VariantError(
            "no-shutdown", "the scenario has no internet shutdown (no shutdown action, online)"
        )
    kept = tuple(e for e in sc.timeline if not any(e is t for t in toggles))
    out = dataclasses.replace(sc, timeline=kept).with_params(information_online=True)
    return out, f"channel online throughout, {len(toggles)} shutdown/restore action(s) dropped"


def _without_provocateurs(sc: Scenario) -> tuple[Scenario, str]:
    if sc.params.provocateurs.count == 0:
        raise VariantError("no-provocateurs", "the scenario has no provocateurs")
    return sc.with_params(provocateurs_count=0), (
        f"provocateurs.count {sc.params.provocateurs.count} → 0"
    )


def _general_strike(sc: Scenario, when: int | None = None) -> tuple[Scenario, str]:
    if sc.params.organisation.groups <= 0:
        raise VariantError(
            "general-strike",
            "the scenario has no organised groups to strike (set organisation.groups > 0)",
        )
    if any(isinstance(e, ActionEvent) and e.action == "general_strike" for e in sc.timeline):
        raise VariantError("general-strike", "the scenario already calls a general strike")
    ticks = [e.start if isinstance(e, RampEvent) else e.tick for e in sc.timeline]
    tick = min(ticks, default=1) if when is None else when
    events = [*sc.timeline, ActionEvent(tick=tick, action="general_strike")]
    events.sort(key=lambda e: e.start if isinstance(e, RampEvent) else e.tick)
    return (
        dataclasses.replace(sc, timeline=tuple(events)),
        f"general strike from tick {tick} to the end",
    )


#: Built-in variants that take a time (``NAME@WHEN``).
TIMED = ("early-concession", "general-strike")
#: ``@WHEN`` then, optionally, ``:key=value,…``: WHEN a tick or an ISO clock time.
_WHEN = re.compile(
    r"@(?P<when>\d+|\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)?"
    r"(?:Z|[+-]\d\d:?\d\d)?)(?::(?P<body>.*))?\Z"
)


def _tick_of(scenario: Scenario, name: str, when: str) -> int:
    """The tick of ``@WHEN``: a whole tick ≥ 1, or a clock time in run.start's clock."""
    if when.isdigit():
        tick = int(when)
        if tick < 1:
            raise VariantError(name, f"@{when}: a tick is ≥ 1")
        return tick
    p = scenario.params.run
    try:
        return tick_at(when.replace(" ", "T"), p.start, p.tick_minutes)
    except ValueError as e:
        raise VariantError(name, f"@{when}: {e}") from None


def make_variant(scenario: Scenario, spec: str) -> Variant:
    """Build a variant from ``--what-if`` text (module docstring)."""
    from upheaval.scenario.loading import ScenarioError, apply_overrides

    spec = spec.strip()
    name, when_text, body = spec, None, None
    if "@" in spec.partition(":")[0]:
        name, _, rest = spec.partition("@")
        m = _WHEN.match("@" + rest)
        if not m:
            raise VariantError(
                name, f"expected {name}@TICK or {name}@YYYY-MM-DDTHH:MMZ, got {spec!r}"
            )
        when_text, body = m["when"], m["body"]
        if name not in TIMED:
            raise VariantError(name, f"only {', '.join(TIMED)} take @WHEN")
    elif ":" in spec:
        name, _, body = spec.partition(":")
    name = name.strip()
    base = scenario
    sets: list[str] = []
    if body is not None:
        if not _NAME.match(name) or name == BASELINE:
            raise VariantError(
                spec, f"a variant name is letters, digits, '-', '_', '.', not {name!r}"
            )
        sets = [s.strip() for s in body.split(",") if s.strip()]
        if not sets or any("=" not in s for s in sets):
            raise VariantError(name, f"expected name:key=value,…, got {spec!r}")
        try:
            base = apply_overrides(scenario, sets)
        except ScenarioError as e:
            raise VariantError(name, f"{e.key}: {e.reason}") from None
        if name not in BUILTIN:
            return Variant(name, base, ", ".join(sets))
    builders: dict[str, Callable[..., tuple[Scenario, str]]] = {
        "no-shutdown": _without_shutdown,
        "no-provocateurs": _without_provocateurs,
        "no-intervention": _without_reinforcements,
        "no-lethal-force": _without_lethal_force,
        "early-concession": _early_concession,
        "general-strike": _general_strike,
    }
    if name not in builders:
        raise VariantError(
            spec, f"unknown variant; known: {', '.join(BUILTIN)}, or name:key=value,…"
        )
    if when_text is not None:
        sc, patch = builders[name](base, _tick_of(base, name, when_text))
    else:
        sc, patch = builders[name](base)
    if sets:
        patch = f"{', '.join(sets)}; {patch}"
    return Variant(name, sc, patch)


def _changed_locations(a: Scenario, b: Scenario) -> set[str]:
    from upheaval.results.recorder import parameters_by_location

    pa_, pb = parameters_by_location(a.params), parameters_by_location(b.params)
    return {k for k in pa_ if pa_[k] != pb[k]}


@dataclass
class Comparison:
    """Per-run outcomes of every variant (``outcomes[name]``: replicates × ``names``).

    Over a posterior, replicate k is (draw k // seeds, seed k % seeds) and ``draws``
    holds the draws (one row a draw); otherwise every replicate is a seed."""

    out: Path
    variants: list[Variant]
    outcomes: dict[str, np.ndarray]
    replicates: int
    names: tuple[str, ...] = OUTCOMES
    draws: pd.DataFrame | None = None
    seeds: int | None = None

    def runs_table(self) -> pd.DataFrame:
        import pandas as pd

        frames = []
        for name, v in self.outcomes.items():
            df = pd.DataFrame(v, columns=list(self.names))
            k = np.arange(len(v))
            if self.draws is not None and self.seeds:
                df.insert(0, "seed", k % self.seeds)
                df.insert(0, "draw", k // self.seeds)
            df.insert(0, "replicate", k)
            df.insert(0, "variant", name)
            frames.append(df)
        return pd.concat(frames, ignore_index=True)


def _draws_table(draws: pd.DataFrame | Mapping[str, Sequence[float]]) -> pd.DataFrame:
    import pandas as pd

    from upheaval.experiments.posterior import WEIGHT, PosteriorError, check_draws

    table = draws if isinstance(draws, pd.DataFrame) else pd.DataFrame(dict(draws))
    if WEIGHT in table.columns:
        raise PosteriorError(
            "draws", "has a 'weight' column: draw by weight first (posterior.resample_draws)"
        )
    return check_draws(table.reset_index(drop=True), "draws")


def compare(
    scenario: Scenario,
    what_if: Sequence[str],
    out: str | Path,
    *,
    replicates: int = 20,
    steps: int | None = None,
    seed: int | None = None,
    executor: cf.Executor | None = None,
    workers: int | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    hold_share: float = 0.25,
    force: bool = False,
    on_progress: Callable[[int, int, int, str], None] | None = None,
    draws: pd.DataFrame | Mapping[str, Sequence[float]] | None = None,
    place_lost: Sequence[str] = (),
    lost_below: float = LOST_BELOW,
    onset_share: float = ONSET_SHARE,
) -> Comparison:
    """Run the baseline and each variant ``replicates`` times with common random numbers
    (over ``draws``: ``replicates`` seeds for each draw, module docstring).

    ``place_lost``, ``lost_below`` and ``onset_share``: a country's outcomes
    (:func:`upheaval.results.places.country_outcomes`).
    ``on_progress(done, failed, to_run, label)`` follows the runs of all variants
    together (label: the variant being run); runs done before (a resumed
    comparison) count as done."""
    if not what_if:
        raise ValueError("--what-if: give at least one variant")
    table = None if draws is None else _draws_table(draws)
    n_draws = 1 if table is None else len(table)
    if replicates < 1 or (table is None and replicates < 2) or n_draws * replicates < 2:
        raise ValueError(
            f"--replicates: need ≥ 2 runs per variant for intervals, got {replicates}"
            + ("" if table is None else f" seed(s) × {n_draws} draw(s)")
        )
    if not 0 < hold_share <= 1:
        raise ValueError(f"--hold-share: must lie in (0, 1], got {hold_share}")
    if not 0 < lost_below <= 1:
        raise ValueError(f"--lost-below: must lie in (0, 1], got {lost_below}")
    if not 0 < onset_share <= 1:
        raise ValueError(f"onset_share: must lie in (0, 1], got {onset_share}")
    country = scenario.country
    if country is None and place_lost:
        raise ValueError("--place-lost: the scenario has no places (no [country])")
    for name in place_lost:
        if name not in country.names:
            raise ValueError(
                f"--place-lost: no place {name!r} in the scenario; it has "
                f"{', '.join(sorted(country.names))}"
            )
    variants = [Variant(BASELINE, scenario, "the scenario as given")]
    for spec in what_if:
        v = make_variant(scenario, spec)
        if any(v.name == w.name for w in variants):
            raise VariantError(v.name, "given twice")
        variants.append(v)
    drawn: dict[str, str] = {}
    if table is not None:
        from upheaval.scenario.loading import resolve_key

        drawn = {resolve_key(c, "draws").location: c for c in table.columns}
        if country is not None and "world.scale" in drawn:
            # a country's outcomes are people: agents × the scenario's world.scale
            raise ValueError("draws: world.scale may not vary (outcomes are scaled by it)")
        for v in variants[1:]:
            clash = sorted(_changed_locations(scenario, v.scenario) & set(drawn))
            if clash:
                raise VariantError(
                    v.name,
                    f"changes {clash[0]}, which every draw sets: the draw would undo it",
                )
    root = scenario.params.run.seed if seed is None else int(seed)
    settings: dict[str, Any] = {
        "scenario": scenario.name,
        "what_if": [v.name for v in variants],
        "replicates": replicates,
        "steps": steps,
        "seed": root,
        "threshold": threshold,
    }
    if table is not None:
        from upheaval.experiments.posterior import draws_digest

        settings["draws"] = {
            "n": n_draws,
            "columns": list(table.columns),
            "digest": draws_digest(table),
        }
    if country is not None:
        settings["outcomes"] = {
            "place_lost": list(place_lost),
            "lost_below": lost_below,
            "onset_share": onset_share,
        }
    out = _claim(Path(out).resolve(), settings, force)
    if table is None:
        design = grid([], replicates=replicates)
    else:
        # the draws are the design's points (a matrix design): recorded in the directory
        path = out / "draws.parquet"
        table.to_parquet(path, index=False)
        design = from_matrix(path, replicates)
    runs = n_draws * replicates
    if country is None:
        names: tuple[str, ...] = OUTCOMES
    else:
        names = (*COUNTRY_OUTCOMES, *(f"{LOST_PREFIX}{n}" for n in place_lost))
    outcomes: dict[str, np.ndarray] = {}
    total = len(variants) * runs
    for k, v in enumerate(variants):
        where = out / "variants" / v.name

        def progress(done: int, failed: int, to_run: int, k: int = k, name: str = v.name) -> None:
            # earlier variants, and this one's runs done before this call, are done
            before = k * runs + (runs - to_run)
            if on_progress is not None:
                on_progress(before + done, failed, total, f"compare: {name}")

        report = run_sweep(
            v.scenario,
            design,
            where,
            steps=steps,
            seed=root,  # the same root for every variant: common random numbers
            executor=executor,
            workers=workers,
            keep_ticks=True,
            threshold=threshold,
            on_progress=progress,
        )
        p = v.scenario.params
        summary = None
        if country is not None:

            def summary(t, p=p) -> dict[str, float]:
                if PLACE not in t.column_names:
                    # a country of one place (kz2022-almaty) records one row a tick,
                    # without the place's name
                    import pyarrow as pa

                    t = t.add_column(1, PLACE, pa.array([country.names[0]] * t.num_rows))
                return country_outcomes(
                    t,
                    p.world.scale,
                    p.run.tick_minutes,
                    tuple(place_lost),
                    onset_share=onset_share,
                    lost_below=lost_below,
                )

        stats = sweep_statistics(where, threshold, summary)
        if len(stats) != runs:
            raise RuntimeError(
                f"variant {v.name}: {report.total - len(stats)} runs failed; "
                f'see upheaval query {where} "SELECT * FROM failed"'
            )
        citizens = round(p.population.citizen_density * p.world.width * p.world.height)
        rows = []
        for i in range(n_draws):
            for r in range(replicates):
                s = stats[(i, r)]
                if country is not None:
                    rows.append([s[n] for n in names])
                    continue
                rows.append(
                    [
                        float(s["peak_active"] < hold_share * citizens),
                        s["deaths"],
                        s["arrests"],
                        s["peak_active"],
                        s["unrest_duration"],
                    ]
                )
        outcomes[v.name] = np.asarray(rows, dtype=np.float64)
    return Comparison(
        out,
        variants,
        outcomes,
        runs,
        names,
        table,
        None if table is None else replicates,
    )


def _claim(out: Path, settings: dict[str, Any], force: bool) -> Path:
    """The comparison directory, made ready (results/directories.py); a resumed one
    must hold the same comparison (each variant's sweep checks its own runs)."""
    import json
    import os

    from upheaval.experiments.store import StoreError
    from upheaval.results import directories

    out, resuming = directories.claim(
        out,
        directories.COMPARISON,
        overwrite=force,
        error=StoreError,
        resume=True,
        overwrite_hint="force=True",
    )
    marker = out / directories.COMPARISON.marker
    if resuming and marker.exists():
        old = json.loads(marker.read_text("utf-8")).get("settings")
        if json.dumps(old, sort_keys=True) != json.dumps(settings, sort_keys=True):
            raise StoreError(out, "holds a different comparison; use another --out or force=True")
        return out
    tmp = out / f".{marker.name}.tmp"
    tmp.write_text(json.dumps({"format": FORMAT, "settings": settings}, indent=1), "utf-8")
    os.replace(tmp, marker)
    return out


def bootstrap_table(
    comp: Comparison, *, resamples: int = 2000, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """Means with percentile-bootstrap intervals (``level``: 0.9 for 90 %); paired
    differences against the baseline (the same resampled replicates in both arms)."""
    import pandas as pd

    if not 0 < level < 1:
        raise ValueError(f"--level: must lie in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, comp.replicates, size=(resamples, comp.replicates))
    lo_q, hi_q = 100 * (1 - level) / 2, 100 * (1 + level) / 2
    base = comp.outcomes[BASELINE]
    rows: list[dict[str, Any]] = []
    for name, v in comp.outcomes.items():
        means = v[idx].mean(axis=1)  # resamples × outcomes
        diffs = (v - base)[idx].mean(axis=1)
        for k, outcome in enumerate(comp.names):
            row = {
                "variant": name,
                "outcome": outcome,
                "mean": float(v[:, k].mean()),
                "lo": float(np.percentile(means[:, k], lo_q)),
                "hi": float(np.percentile(means[:, k], hi_q)),
            }
            if name != BASELINE:
                row["diff"] = float((v[:, k] - base[:, k]).mean())
                row["diff_lo"] = float(np.percentile(diffs[:, k], lo_q))
                row["diff_hi"] = float(np.percentile(diffs[:, k], hi_q))
            rows.append(row)
    return pd.DataFrame(
        rows, columns=["variant", "outcome", "mean", "lo", "hi", "diff", "diff_lo", "diff_hi"]
    )


def write_comparison(comp: Comparison, table: pd.DataFrame) -> dict[str, Path]:
    """Write runs.parquet (per-run outcomes), compare.csv/.parquet and variants.json."""
    import json

    paths = {
        "runs": comp.out / "runs.parquet",
        "table": comp.out / "compare.csv",
        "table_parquet": comp.out / "compare.parquet",
        "variants": comp.out / "variants.json",
    }
    comp.runs_table().to_parquet(paths["runs"], index=False)
    table.to_csv(paths["table"], index=False)
    table.to_parquet(paths["table_parquet"], index=False)
    paths["variants"].write_text(
        json.dumps(
            {
                "summary_version": SUMMARY_VERSION,
                "replicates": comp.replicates,
                "outcomes": list(comp.names),
                "draws": None if comp.draws is None else len(comp.draws),
                "seeds_per_draw": comp.seeds,
                "variants": [{"name": v.name, "patch": v.patch} for v in comp.variants],
            },
            indent=1,
        ),
        "utf-8",
    )
    return paths


__all__ = [
    "BASELINE",
    "BUILTIN",
    "OUTCOMES",
    "TIMED",
    "Comparison",
    "Variant",
    "VariantError",
    "bootstrap_table",
    "compare",
    "make_variant",
    "write_comparison",
]
