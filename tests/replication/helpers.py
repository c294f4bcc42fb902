"""Shared pieces of the replication suite: the seeds, runs, statistics, and the
JSON record each claim's test writes for ``scripts/replication_report.py``.

Every claim is judged over :data:`SEEDS`, fixed here once for all claims and never
chosen by looking at results (model-spec §3).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

import upheaval
from upheaval.model.timeline import SetEvent
from upheaval.results.outbursts import OutburstStats, outbursts

#: The seeds every claim is judged over: the first twenty, no selection.
SEEDS: tuple[int, ...] = tuple(range(20))

#: Where each claim's measurements go (override with UPHEAVAL_REPLICATION_RESULTS).
RESULTS_DIR = Path(
    os.environ.get("UPHEAVAL_REPLICATION_RESULTS", Path(__file__).parent / "results")
)

#: Conventional significance level of the comparisons; stated in every record.
ALPHA = 0.05


# -- runs ------------------------------------------------------------------------------
def scenario(preset: str, **overrides: Any) -> upheaval.Scenario:
    sc = upheaval.load(preset)
    return upheaval.apply_overrides(sc, overrides) if overrides else sc


def with_event(sc: upheaval.Scenario, tick: int, param: str, value: float) -> upheaval.Scenario:
    """``sc`` with one more timeline event: ``param`` set to ``value`` at ``tick``."""
    return dataclasses.replace(
        sc, timeline=(*sc.timeline, SetEvent(tick=tick, param=param, value=value))
    )


def column(sim: upheaval.Simulation, *names: str) -> np.ndarray:
    """Sum of the named per-tick columns, tick 0 included."""
    t = sim.table()
    return sum(np.asarray(t[n], dtype=np.int64) for n in names)


def active(sim: upheaval.Simulation) -> np.ndarray:
    return column(sim, "active_blue", "active_green")


def jailed(sim: upheaval.Simulation) -> np.ndarray:
    return column(sim, "jailed_blue", "jailed_green")


def ticks(sim: upheaval.Simulation) -> np.ndarray:
    return column(sim, "tick")


def run_outbursts(sim: upheaval.Simulation) -> OutburstStats:
    return outbursts(active(sim), ticks(sim))


def group_size(counts: dict[str, int], group: str) -> int:
    """Members of a Model II group alive: quiet, active or jailed."""
    return counts[f"quiet_{group}"] + counts[f"active_{group}"] + counts[f"jailed_{group}"]


# -- statistics -------------------------------------------------------------------------
def describe(values: Iterable[float | None]) -> dict[str, Any]:
    """n, mean, sd, min, max and a 95% t-interval of the mean (values None are dropped)."""
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    out: dict[str, Any] = {"n": int(x.size)}
    if x.size == 0:
        return out | {"mean": None, "sd": None, "min": None, "max": None, "ci95": None}
    out |= {"mean": float(x.mean()), "min": float(x.min()), "max": float(x.max())}
    if x.size > 1:
        sd = float(x.std(ddof=1))
        half = float(stats.t.ppf(0.975, x.size - 1) * sd / math.sqrt(x.size))
        out |= {"sd": sd, "ci95": [out["mean"] - half, out["mean"] + half]}
    else:
        out |= {"sd": None, "ci95": None}
    return out


def paired(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """Wilcoxon signed-rank test of b − a over seeds (two-sided), with the
    matched-pairs rank-biserial correlation as effect size (+1: b > a in every pair)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    nz = d[d != 0]
    out: dict[str, Any] = {
        "test": "Wilcoxon signed-rank, two-sided, paired by seed",
        "n_pairs": int(d.size),
        "mean_difference": float(d.mean()),
        "b_greater": int((d > 0).sum()),
        "b_smaller": int((d < 0).sum()),
        "ties": int((d == 0).sum()),
    }
    if nz.size == 0:
        return out | {"statistic": None, "p_value": 1.0, "rank_biserial": 0.0}
    res = stats.wilcoxon(nz)
    ranks = stats.rankdata(np.abs(nz))
    r = float((ranks[nz > 0].sum() - ranks[nz < 0].sum()) / ranks.sum())
    return out | {
        "statistic": float(res.statistic),
        "p_value": float(res.pvalue),
        "rank_biserial": r,
    }


def unpaired(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """Mann–Whitney U test of b vs a (two-sided), with the rank-biserial correlation
    2·U_b/(n_a n_b) − 1 as effect size (+1: every b above every a)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    res = stats.mannwhitneyu(b, a, alternative="two-sided")
    return {
        "test": "Mann–Whitney U, two-sided",
        "n_a": int(a.size),
        "n_b": int(b.size),
        "statistic": float(res.statistic),
        "p_value": float(res.pvalue),
        "rank_biserial": float(2 * res.statistic / (a.size * b.size) - 1),
    }


def trend(x: Sequence[float], y: Sequence[float]) -> dict[str, Any]:
    """Spearman rank correlation of y on x (two-sided)."""
    res = stats.spearmanr(x, y)
    return {
        "test": "Spearman rank correlation, two-sided",
        "n": len(x),
        "rho": float(res.statistic),
        "p_value": float(res.pvalue),
    }


def position_of(value: float, summary: dict[str, Any]) -> str:
    """Where a paper's value lies against our 95% interval of the mean:
    'below', 'inside' or 'above'."""
    lo, hi = summary["ci95"]
    return "below" if value < lo else "above" if value > hi else "inside"


# -- records ----------------------------------------------------------------------------
def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating | float):
        return None if math.isnan(float(x)) else round(float(x), 6)
    if isinstance(x, np.ndarray):
        return _plain(x.tolist())
    return x


def write_record(
    claim: str,
    *,
    statement: str,
    paper: str,
    settings: str,
    verdict: str,
    ours: str,
    measurements: dict[str, Any],
    seeds: Sequence[int] = SEEDS,
) -> Path:
    """Write one claim's measurements as JSON (no timestamps: the same code and seeds
    give the same file). ``verdict`` is 'reproduced', 'partly' or 'not reproduced'."""
    if verdict not in ("reproduced", "partly", "not reproduced"):
        raise ValueError(f"verdict must be reproduced/partly/not reproduced, got {verdict!r}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{claim}.json"
    record = {
        "claim": claim,
        "statement": statement,
        "paper": paper,
        "settings": settings,
        "seeds": list(seeds),
        "alpha": ALPHA,
        "verdict": verdict,
        "ours": ours,
        "measurements": measurements,
    }
    path.write_text(json.dumps(_plain(record), indent=2, ensure_ascii=False) + "\n")
    return path


def per_seed(fn: Callable[[int], dict[str, Any]], seeds: Sequence[int] = SEEDS) -> list[dict]:
    return [fn(s) | {"seed": s} for s in seeds]
