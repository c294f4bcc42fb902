"""Scores of a country run against what happened: onset times per place.

The scores follow ``shared/docs/country-science.md`` (how a country forecast is
scored): a forecast is the ensemble of replicate runs (seeds, or parameter draws ×
seeds); each place's forecast of its first-protest time is scored against the
observed time with

* the **onset error** (hours): the ensemble median minus the observed time;
* the **median absolute onset error** over the places that protested;
* **Spearman's ρ** between the observed and the forecast (median) onset order,
  over the places that protested (ties get average ranks);
* the **CRPS** (continuous ranked probability score, hours) of the ensemble, with
  the ensemble estimator of Gneiting & Raftery (2007, JASA 102(477), eq. 21 with
  the empirical distribution), as ``properscoring.crps_ensemble`` computes it:
  CRPS(F, y) = E|X − y| − ½ E|X − X′|, X, X′ drawn independently from the
  members; for one member it is the absolute error;
* the **coverage** of the central 90 % interval (the 5th–95th percentiles of the
  members): the share of places whose observed time lies inside;
* a **hit/miss table** of "a protest was reported" against "the model's onset
  happens in at least half the replicates".

**Onset.** A place's onset is the first tick at which at least ``onset_share`` of
its citizens are active (:mod:`upheaval.results.places`). Tick k covers
[start + (k − 1)·Δ, start + k·Δ) (docs/odd.md §7.13) and its counts are taken at
its end, so the onset's clock time is start + k·Δ. A replicate in which a place
never reaches its onset counts at the end of the run (right-censored: a lower
bound on the onset; docs/kazakhstan.md). Times are hours since the observations'
``run_start_utc``.

**Baselines** that use no model are scored the same way (single-member
forecasts): every place at the median observed onset; every place at noon of
4 January (UTC+6); the observed onset times handed out in order of great-circle
distance from the first place (Zhanaozen), or of population (largest first). The
last two use the observed times themselves (in-sample), which flatters them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from upheaval.results.places import ONSET_SHARE, onset_ticks

#: The central interval whose coverage is scored (5th to 95th percentile).
INTERVAL = 0.90
#: A place is forecast to protest when at least this share of replicates has an onset.
PROTEST_SHARE = 0.5
#: The everything-at-once baseline: noon of 4 January 2022 in Nur-Sultan time
#: (UTC+6), the day most places rose (kz2022 README, "Spread"; issue 10 §2).
ALL_AT_ONCE_UTC = "2022-01-04T06:00Z"


class ScoringError(ValueError):
    """A bad input to the scores (a run directory, observations): one line."""


def parse_utc(text: str) -> datetime:
    """``2022-01-04T06:00Z`` (or with an offset) → an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def crps_ensemble(observation: float, members: Sequence[float] | np.ndarray) -> float:
    """CRPS of an ensemble forecast (module docstring; Gneiting & Raftery 2007,
    eq. 21): mean |x_i − y| − (1 / 2m²) Σ_i Σ_j |x_i − x_j|. Computed in
    O(m log m) with the sorted members: Σ_i Σ_j |x_i − x_j| = 2 Σ_i (2i − m + 1) x_(i)
    (0-based order statistics)."""
    x = np.sort(np.asarray(members, dtype=np.float64))
    m = x.size
    if m == 0:
        raise ScoringError("an ensemble needs at least one member")
    if not np.all(np.isfinite(x)) or not math.isfinite(observation):
        raise ScoringError("CRPS needs finite members and observation")
    skill = float(np.mean(np.abs(x - observation)))
    i = np.arange(m, dtype=np.float64)
    spread = float(2.0 * np.sum((2.0 * i - m + 1.0) * x)) / (m * m)
    return skill - 0.5 * spread


def spearman_rho(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation with average ranks for ties (Pearson's r of the
    ranks); nan when either side is constant or fewer than 3 pairs."""
    from scipy.stats import rankdata

    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if x.size != y.size:
        raise ScoringError("spearman_rho needs two sequences of equal length")
    if x.size < 3:
        return float("nan")
    rx, ry = rankdata(x), rankdata(y)
    if np.ptp(rx) == 0 or np.ptp(ry) == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


@dataclass(frozen=True)
class Observations:
    """``observed.json`` of a country preset: each place's first-protest time in
    hours since ``start`` (None: not known), whether a protest was reported
    ("yes" / "no" / "unknown"), its population and coordinates."""

    start: datetime
    onset_hours: dict[str, float | None]
    protest: dict[str, str]
    population: dict[str, int]
    coords: dict[str, tuple[float, float]]

    @classmethod
    def load(cls, path: str | Path) -> Observations:
        path = Path(path)
        try:
            doc = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise ScoringError(f"{path}: no such file") from None
        except json.JSONDecodeError as e:
            raise ScoringError(f"{path}: line {e.lineno}, column {e.colno}: {e.msg}") from None
        return cls.from_dict(doc, str(path))

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], where: str = "observed.json") -> Observations:
        try:
            start = parse_utc(doc["run_start_utc"])
            places = doc["places"]
        except (KeyError, TypeError, ValueError) as e:
            raise ScoringError(f"{where}: missing or bad run_start_utc/places ({e})") from None
        onset, protest, pop, coords = {}, {}, {}, {}
        for name, p in places.items():
            try:
                t = p.get("first_protest_utc")
                onset[name] = None if t is None else (parse_utc(t) - start).total_seconds() / 3600
                protest[name] = p["protest"]
                pop[name] = int(p["population"])
                coords[name] = (float(p["lat"]), float(p["lon"]))
            except (KeyError, TypeError, ValueError) as e:
                raise ScoringError(f"{where}: places.{name}: missing or bad {e}") from None
            if protest[name] not in ("yes", "no", "unknown"):
                raise ScoringError(f"{where}: places.{name}.protest: {protest[name]!r}")
        return cls(start, onset, protest, pop, coords)

    def protested(self) -> list[str]:
        """Places with a reported protest and a known first-protest time."""
        return [n for n, t in self.onset_hours.items() if t is not None]


@dataclass(frozen=True)
class Ensemble:
    """Onset hours of each place in each replicate (None: no onset), and the
    hours the runs lasted (the censoring time)."""

    onsets: dict[str, list[float | None]]
    horizon_hours: float

    @property
    def replicates(self) -> int:
        return len(next(iter(self.onsets.values()))) if self.onsets else 0

    def members(self, place: str) -> np.ndarray:
        """The place's onsets, a missing one at the horizon (right-censored)."""
        return np.array(
            [self.horizon_hours if t is None else t for t in self.onsets[place]], np.float64
        )

    def onset_share(self, place: str) -> float:
        v = self.onsets[place]
        return sum(t is not None for t in v) / len(v)


def ensemble_from_tables(
    tables: Sequence[Any],
    start: datetime,
    run_start: datetime,
    tick_minutes: float,
    steps: int,
    onset_share: float = ONSET_SHARE,
) -> Ensemble:
    """An :class:`Ensemble` from tick tables of replicate runs that began at
    ``run_start`` (ticks of ``tick_minutes``), in hours since ``start``."""
    if tick_minutes <= 0:
        raise ScoringError("the runs have no clock (run.tick_minutes = 0)")
    shift = (run_start - start).total_seconds() / 3600
    h = tick_minutes / 60
    onsets: dict[str, list[float | None]] = {}
    for k, table in enumerate(tables):
        ticks = onset_ticks(table, onset_share)
        if k and set(ticks) != set(onsets):
            raise ScoringError(f"replicate {k + 1} has other places than the first")
        for name, t in ticks.items():
            onsets.setdefault(name, []).append(None if t is None else shift + t * h)
    return Ensemble(onsets, shift + steps * h)


def load_runs(
    run_dirs: Sequence[str | Path], obs: Observations, onset_share: float = ONSET_SHARE
) -> Ensemble:
    """The :class:`Ensemble` of run directories (``ticks.parquet`` and
    ``manifest.json`` each) of one scenario."""
    import pyarrow.parquet as pq

    tables, clock = [], None
    for d in run_dirs:
        d = Path(d)
        try:
            m = json.loads((d / "manifest.json").read_text("utf-8"))
            table = pq.read_table(d / "ticks.parquet")
        except FileNotFoundError as e:
            raise ScoringError(
                f"{d}: not a run directory ({Path(str(e.filename)).name} missing)"
            ) from None
        except (json.JSONDecodeError, OSError) as e:
            raise ScoringError(f"{d}: unreadable run ({e})") from None
        if not m.get("country"):
            raise ScoringError(f"{d}: not a country run (manifest.json has no country)")
        p = m.get("parameters", {})
        try:
            this = (parse_utc(str(p["run.start"])), float(p["run.tick_minutes"]))
        except (KeyError, ValueError):
            raise ScoringError(f"{d}: manifest.json: the run has no run.start") from None
        if clock is not None and this != clock:
            raise ScoringError(f"{d}: run.start or run.tick_minutes differs from {run_dirs[0]}")
        clock = this
        tables.append((table, int(m["ticks"]["last"])))
    if not tables or clock is None:
        raise ScoringError("no run directories")
    steps = min(s for _, s in tables)
    ens = ensemble_from_tables(
        [t for t, _ in tables], obs.start, clock[0], clock[1], steps, onset_share
    )
    missing = sorted(set(obs.onset_hours) - set(ens.onsets))
    if missing:
        raise ScoringError(f"the runs lack places of the observations: {', '.join(missing)}")
    return ens


@dataclass
class PlaceScore:
    place: str
    observed: float | None
    median: float
    low: float
    high: float
    onset_share: float
    error: float | None
    crps: float | None
    covered: bool | None


@dataclass
class Scores:
    """The scores of one forecast (the model's ensemble or a baseline)."""

    name: str
    replicates: int
    places: list[PlaceScore]
    median_abs_error: float
    mean_crps: float
    spearman: float
    coverage: float | None
    hits: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON; an undefined score (nan) is None (null)."""
        return _no_nan(asdict(self))


def _no_nan(x: Any) -> Any:
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: _no_nan(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_no_nan(v) for v in x]
    return x


def score(
    name: str,
    forecast: Mapping[str, np.ndarray],
    obs: Observations,
    share: Mapping[str, float] | None = None,
) -> Scores:
    """Scores of a forecast: place → its ensemble of onset hours (one member for a
    point forecast); ``share``: the share of replicates with an onset (hit/miss
    table; 1 for every place when None)."""
    rows, errors, crps, covered = [], [], [], []
    lo_q, hi_q = (1 - INTERVAL) / 2, 1 - (1 - INTERVAL) / 2
    for place, y in obs.onset_hours.items():
        x = np.asarray(forecast[place], np.float64)
        med = float(np.median(x))
        lo, hi = (float(v) for v in np.quantile(x, [lo_q, hi_q]))
        if y is None:
            rows.append(
                PlaceScore(place, None, med, lo, hi, _share(share, place), None, None, None)
            )
            continue
        c = crps_ensemble(y, x)
        cov = (lo <= y <= hi) if x.size > 1 else None
        rows.append(PlaceScore(place, y, med, lo, hi, _share(share, place), med - y, c, cov))
        errors.append(abs(med - y))
        crps.append(c)
        covered.append(cov)
    done = obs.protested()
    rho = spearman_rho(
        [obs.onset_hours[p] for p in done], [float(np.median(forecast[p])) for p in done]
    )
    hits = {
        "hit": 0,
        "miss": 0,
        "false_alarm": 0,
        "quiet": 0,
        "unknown_protest": 0,
        "unknown_quiet": 0,
    }
    for place, said in obs.protest.items():
        yes = _share(share, place) >= PROTEST_SHARE
        if said == "yes":
            hits["hit" if yes else "miss"] += 1
        elif said == "no":
            hits["false_alarm" if yes else "quiet"] += 1
        else:
            hits["unknown_protest" if yes else "unknown_quiet"] += 1
    return Scores(
        name=name,
        replicates=int(np.asarray(next(iter(forecast.values()))).size),
        places=rows,
        median_abs_error=float(np.median(errors)) if errors else float("nan"),
        mean_crps=float(np.mean(crps)) if crps else float("nan"),
        spearman=rho,
        coverage=None
        if any(c is None for c in covered) or not covered
        else float(np.mean(covered)),
        hits=hits,
    )


def _share(share: Mapping[str, float] | None, place: str) -> float:
    return 1.0 if share is None else float(share[place])


def score_ensemble(ens: Ensemble, obs: Observations, name: str = "model") -> Scores:
    """Scores of the model's replicate runs."""
    forecast = {p: ens.members(p) for p in obs.onset_hours}
    return score(name, forecast, obs, {p: ens.onset_share(p) for p in obs.onset_hours})


def _haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _by_order(obs: Observations, key: Mapping[str, float]) -> dict[str, np.ndarray]:
    """The observed onset times, sorted, handed to every place in the order of
    ``key`` (smallest first); places beyond the observed ones get the last time."""
    times = sorted(t for t in obs.onset_hours.values() if t is not None)
    order = sorted(obs.onset_hours, key=lambda p: (key[p], p))
    return {p: np.array([times[min(i, len(times) - 1)]]) for i, p in enumerate(order)}


def baselines(obs: Observations, origin: str = "Zhanaozen") -> list[Scores]:
    """The no-model baselines of the module docstring, scored like the model."""
    times = [t for t in obs.onset_hours.values() if t is not None]
    if not times:
        raise ScoringError("no observed onsets to build baselines from")
    if origin not in obs.coords:
        raise ScoringError(f"no place {origin!r} in the observations")
    med = float(np.median(times))
    at_once = (parse_utc(ALL_AT_ONCE_UTC) - obs.start).total_seconds() / 3600
    dist = {p: _haversine_km(obs.coords[origin], c) for p, c in obs.coords.items()}
    pop = {p: -float(n) for p, n in obs.population.items()}
    return [
        score("null: median observed onset", {p: np.array([med]) for p in obs.onset_hours}, obs),
        score(
            "null: all on 4 Jan noon (UTC+6)",
            {p: np.array([at_once]) for p in obs.onset_hours},
            obs,
        ),
        score(f"order by distance from {origin}", _by_order(obs, dist), obs),
        score("order by population", _by_order(obs, pop), obs),
    ]


def _f(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}f}"


def table_lines(model: Scores, base: Sequence[Scores]) -> list[str]:
    """The printed table: per place, then the summary of the model and baselines."""
    out = [
        f"{model.replicates} replicates; hours since the run's start; "
        f"interval {INTERVAL:.0%}; unknown: no protest record",
        f"{'place':<12} {'observed':>8} {'median':>7} {'5%':>6} {'95%':>6} {'onset':>6} "
        f"{'error':>7} {'CRPS':>6} in",
    ]
    for r in model.places:
        cov = "" if r.covered is None else ("yes" if r.covered else "no")
        out.append(
            f"{r.place[:12]:<12} {_f(r.observed):>8} {_f(r.median):>7} {_f(r.low):>6} "
            f"{_f(r.high):>6} {r.onset_share:>6.0%} {_f(r.error):>7} {_f(r.crps):>6} {cov}"
        )
    out.append("")
    out.append(f"{'forecast':<36} {'MAE h':>7} {'CRPS h':>7} {'rho':>6} {'cover':>6} hits")
    for s in (model, *base):
        h = s.hits
        out.append(
            f"{s.name[:36]:<36} {_f(s.median_abs_error):>7} {_f(s.mean_crps):>7} "
            f"{_f(s.spearman, 2):>6} {_f(None if s.coverage is None else 100 * s.coverage, 0):>6} "
            f"{h['hit']} hit, {h['miss']} miss, {h['unknown_protest']} unknown→protest"
        )
    return out


__all__ = [
    "ALL_AT_ONCE_UTC",
    "INTERVAL",
    "PROTEST_SHARE",
    "Ensemble",
    "Observations",
    "PlaceScore",
    "Scores",
    "ScoringError",
    "baselines",
    "crps_ensemble",
    "ensemble_from_tables",
    "load_runs",
    "score",
    "score_ensemble",
    "spearman_rho",
    "table_lines",
]
