"""Scenario discovery: which region of parameter space leads to mass uprising.

:func:`prim` is the Patient Rule Induction Method (Friedman & Fisher 1999, as used
for scenario discovery by Bryant & Lempert 2010): starting from the box holding
every run, it repeatedly *peels* off the ``alpha`` share of the remaining runs at
one face of the box — the face whose removal most raises the share of runs of
interest (the box's *density*) — until the box holds fewer than ``mass_min`` of
all runs. The sequence of boxes is the *peeling trajectory*; the chosen box is the
one with the greatest *coverage* (share of all runs of interest that it holds)
among those whose density reaches ``threshold``. The chosen box is then *pasted*:
faces are moved back out while that raises the density.

Implemented here (not EMA Workbench's) to keep the dependency light; the result
can be checked against EMA Workbench by exporting with :func:`to_ema`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class PrimBox:
    """A box ``limits[name] = (low, high)`` (inclusive) and how good it is."""

    limits: dict[str, tuple[float, float]]
    coverage: float  # runs of interest inside / all runs of interest
    density: float  # runs of interest inside / runs inside
    mass: float  # runs inside / all runs
    restricted: tuple[str, ...]  # parameters whose limits are narrower than the data's
    trajectory: list[dict[str, float]] = field(default_factory=list, repr=False)

    def contains(self, X: Mapping[str, np.ndarray]) -> np.ndarray:
        """Which rows of ``X`` (columns by name) lie inside the box."""
        n = len(next(iter(X.values())))
        inside = np.ones(n, dtype=bool)
        for name, (lo, hi) in self.limits.items():
            v = np.asarray(X[name], dtype=np.float64)
            inside &= (v >= lo) & (v <= hi)
        return inside


def _stats(inside: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    n_in = int(inside.sum())
    hits = int(y[inside].sum())
    total = int(y.sum())
    coverage = hits / total if total else 0.0
    density = hits / n_in if n_in else 0.0
    return coverage, density, n_in / y.size


def prim(
    X: Mapping[str, Sequence[float] | np.ndarray],
    y: Sequence[bool] | np.ndarray,
    *,
    alpha: float = 0.05,
    mass_min: float = 0.05,
    threshold: float = 0.8,
    paste: bool = True,
) -> PrimBox:
    """Find a box of parameter space where ``y`` (runs of interest) is concentrated.

    ``X`` maps each numeric parameter to its values (one per run); ``y`` marks the
    runs of interest. Returns the chosen :class:`PrimBox`, with the whole peeling
    trajectory (coverage, density, mass of each box) in ``trajectory``.
    """
    names = list(X)
    if not names:
        raise ValueError("prim needs at least one parameter")
    cols = np.column_stack([np.asarray(X[n], dtype=np.float64) for n in names])
    yy = np.asarray(y, dtype=bool)
    if cols.shape[0] != yy.size or yy.size == 0:
        raise ValueError(f"X has {cols.shape[0]} rows and y {yy.size}; they must match (> 0)")
    if not np.all(np.isfinite(cols)):
        raise ValueError("X has non-finite values")
    if not 0 < alpha < 1 or not 0 < mass_min < 1:
        raise ValueError(f"alpha and mass_min must lie in (0, 1), got {alpha}, {mass_min}")
    if not yy.any():
        raise ValueError("no run of interest: there is nothing to find")
    data_lo, data_hi = cols.min(axis=0), cols.max(axis=0)
    lo, hi = data_lo.copy(), data_hi.copy()
    inside = np.ones(yy.size, dtype=bool)
    boxes = [(lo.copy(), hi.copy())]
    trajectory = [dict(zip(("coverage", "density", "mass"), _stats(inside, yy), strict=True))]
    while True:
        best: tuple[float, float, int, str, float, np.ndarray] | None = None
        for j in range(len(names)):
            v = cols[inside, j]
            for side in ("low", "high"):
                q = np.quantile(v, alpha if side == "low" else 1 - alpha)
                keep = cols[:, j] > q if side == "low" else cols[:, j] < q
                new = inside & keep
                if new.sum() == inside.sum() or not new.any():
                    continue
                if new.sum() / yy.size < mass_min:
                    continue
                density = yy[new].mean()
                cand = (density, new.sum(), j, side, q, new)
                if best is None or (cand[0], cand[1]) > (best[0], best[1]):
                    best = cand
        if best is None:
            break
        _, _, j, side, _, new = best
        inside = new
        vals = cols[inside, j]
        if side == "low":
            lo[j] = vals.min()
        else:
            hi[j] = vals.max()
        boxes.append((lo.copy(), hi.copy()))
        trajectory.append(
            dict(zip(("coverage", "density", "mass"), _stats(inside, yy), strict=True))
        )

    good = [i for i, t in enumerate(trajectory) if t["density"] >= threshold]
    if good:
        pick = max(good, key=lambda i: (trajectory[i]["coverage"], -i))
    else:
        pick = max(range(len(trajectory)), key=lambda i: (trajectory[i]["density"], -i))
    lo, hi = boxes[pick][0].copy(), boxes[pick][1].copy()
    if paste:
        lo, hi = _paste(cols, yy, lo, hi, data_lo, data_hi, alpha)
    inside = np.all((cols >= lo) & (cols <= hi), axis=1)
    coverage, density, mass = _stats(inside, yy)
    restricted = tuple(n for j, n in enumerate(names) if lo[j] > data_lo[j] or hi[j] < data_hi[j])
    limits = {n: (float(lo[j]), float(hi[j])) for j, n in enumerate(names)}
    return PrimBox(limits, coverage, density, mass, restricted, trajectory)


def _paste(
    cols: np.ndarray,
    y: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    data_lo: np.ndarray,
    data_hi: np.ndarray,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Move faces back out, one at a time, while the density rises."""
    while True:
        inside = np.all((cols >= lo) & (cols <= hi), axis=1)
        density = y[inside].mean()
        n_add = max(1, int(round(alpha * inside.sum())))
        best = None
        for j in range(cols.shape[1]):
            others = np.all(
                (np.delete(cols, j, axis=1) >= np.delete(lo, j))
                & (np.delete(cols, j, axis=1) <= np.delete(hi, j)),
                axis=1,
            )
            for side in ("low", "high"):
                if side == "low":
                    outside = np.sort(cols[others & (cols[:, j] < lo[j]), j])[::-1]
                else:
                    outside = np.sort(cols[others & (cols[:, j] > hi[j]), j])
                if outside.size == 0:
                    continue
                edge = outside[min(n_add, outside.size) - 1]
                new_lo, new_hi = lo.copy(), hi.copy()
                if side == "low":
                    new_lo[j] = edge
                else:
                    new_hi[j] = edge
                new = np.all((cols >= new_lo) & (cols <= new_hi), axis=1)
                d = y[new].mean()
                if d > density and (best is None or d > best[0]):
                    best = (d, new_lo, new_hi)
        if best is None:
            return lo, hi
        _, lo, hi = best


def discover(
    out: str | Path,
    outcome: str = "peak_active",
    above: float = 0.0,
    **kwargs: Any,
) -> PrimBox:
    """PRIM over a sweep: runs whose ``outcome`` exceeds ``above`` are the runs of
    interest (e.g. ``peak_active`` above a share of the citizens: mass uprising);
    the numeric factors of the design are the box's dimensions."""
    experiments, outcomes = to_ema(out)
    from upheaval.experiments.store import read_manifest

    factors = [f["name"] for f in read_manifest(out)["design"]["factors"]]
    numeric = {
        n: experiments[n].to_numpy(dtype=np.float64)
        for n in factors
        if np.issubdtype(experiments[n].dtype, np.number)
    }
    if outcome not in outcomes:
        raise ValueError(f"no outcome {outcome!r}; outcomes are {sorted(outcomes)}")
    y = np.asarray(outcomes[outcome], dtype=np.float64)
    return prim(numeric, np.nan_to_num(y, nan=-np.inf) > above, **kwargs)


def to_ema(out: str | Path) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The sweep in EMA Workbench's form: ``(experiments, outcomes)``.

    ``experiments`` has one row per finished run: the factors, then ``scenario``
    (the run's index), ``policy`` (``"none"``), ``model`` (the scenario's name) and
    ``point``/``replicate``. ``outcomes`` maps each summary column to an array in the
    same row order; with kept ticks, ``active`` is also given as an array of shape
    ``(runs, ticks + 1)``.
    """
    from upheaval.experiments.store import connect, read_manifest
    from upheaval.experiments.summaries import METRICS

    m = read_manifest(out)
    factors = [f["name"] for f in m["design"]["factors"]]
    con = connect(out)
    try:
        runs = con.execute("SELECT * FROM runs ORDER BY point, replicate").df()
        has_ticks = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'ticks'"
        ).fetchone()[0]
        active = None
        if has_ticks:
            t = con.execute(
                "SELECT point, replicate, tick, active_blue + active_green AS active "
                "FROM ticks ORDER BY point, replicate, tick"
            ).fetchnumpy()
            n = len(runs)
            active = np.asarray(t["active"], dtype=np.int64)
            if n and active.size % n == 0:
                active = active.reshape(n, -1)
            else:
                active = None
    finally:
        con.close()
    experiments = runs[factors].copy()
    experiments["scenario"] = np.arange(len(runs))
    experiments["policy"] = "none"
    experiments["model"] = m["scenario"]["name"]
    experiments["point"] = runs["point"].to_numpy()
    experiments["replicate"] = runs["replicate"].to_numpy()
    outcomes = {
        name: runs[name].to_numpy(dtype=np.float64, na_value=np.nan)
        for name in METRICS
        if name in runs
    }
    if active is not None:
        outcomes["active"] = active
    return experiments, outcomes
