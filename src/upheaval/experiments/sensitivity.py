"""Global sensitivity analysis of a sweep: Sobol' and Morris indices (SALib).

A sweep made with ``--design sobol`` or ``--design morris`` is analysed per
summary column (``peak_active`` …). Replicates of a point are averaged first, so
the indices describe the mean response and the replicate noise shrinks with more
replicates. The result is a long table: ``output, method, parameter, index,
value, conf`` where ``conf`` is the half-width of the bootstrap confidence
interval at ``conf_level``. Second-order Sobol' indices name the pair as
``a×b``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from upheaval.experiments.designs import Factor

if TYPE_CHECKING:
    import pandas as pd


class SensitivityError(ValueError):
    """A sweep or output that cannot be analysed, and why."""


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=["output", "method", "parameter", "index", "value", "conf"])


def _nonzero_seed(seed: int) -> int:
    """A seed SALib's Sobol' analysis will use: it tests ``if seed:``, so 0 would mean
    "unseeded" and the confidence intervals would change on every call. Each seed
    maps to its own positive 63-bit seed (through a SeedSequence), 0 included."""
    return int(np.random.SeedSequence(int(seed)).generate_state(1, np.uint64)[0] >> 1) or 1


def sobol_indices(
    problem: dict[str, Any],
    Y: np.ndarray,
    *,
    output: str = "y",
    second_order: bool = True,
    conf_level: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """First-order (S1), total (ST) and, if sampled, second-order (S2) Sobol' indices of
    ``Y`` (one value per point of a Saltelli design, in design order)."""
    from SALib.analyze import sobol

    Y = np.asarray(Y, dtype=np.float64)
    if not np.all(np.isfinite(Y)):
        raise SensitivityError(f"{output}: {int((~np.isfinite(Y)).sum())} points have no value")
    if np.ptp(Y) == 0:
        raise SensitivityError(f"{output}: the output is constant; its indices are undefined")
    r = sobol.analyze(
        problem,
        Y,
        calc_second_order=second_order,
        num_resamples=resamples,
        conf_level=conf_level,
        seed=_nonzero_seed(seed),
    )
    names = problem["names"]
    rows = []
    for i, name in enumerate(names):
        for idx in ("S1", "ST"):
            rows.append(
                {
                    "output": output,
                    "method": "sobol",
                    "parameter": name,
                    "index": idx,
                    "value": float(r[idx][i]),
                    "conf": float(r[f"{idx}_conf"][i]),
                }
            )
    if second_order:
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                rows.append(
                    {
                        "output": output,
                        "method": "sobol",
                        "parameter": f"{names[i]}×{names[j]}",
                        "index": "S2",
                        "value": float(r["S2"][i, j]),
                        "conf": float(r["S2_conf"][i, j]),
                    }
                )
    return _frame(rows)


def morris_indices(
    problem: dict[str, Any],
    X: np.ndarray,
    Y: np.ndarray,
    *,
    output: str = "y",
    levels: int = 4,
    conf_level: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Morris elementary effects: mu, mu* (with its confidence half-width) and sigma."""
    from SALib.analyze import morris

    Y = np.asarray(Y, dtype=np.float64)
    if not np.all(np.isfinite(Y)):
        raise SensitivityError(f"{output}: {int((~np.isfinite(Y)).sum())} points have no value")
    r = morris.analyze(
        problem,
        np.asarray(X, dtype=np.float64),
        Y,
        num_resamples=resamples,
        conf_level=conf_level,
        num_levels=levels,
        seed=seed,
    )
    rows = []
    for i, name in enumerate(problem["names"]):
        for idx, conf in (("mu_star", "mu_star_conf"), ("mu", None), ("sigma", None)):
            rows.append(
                {
                    "output": output,
                    "method": "morris",
                    "parameter": name,
                    "index": idx,
                    "value": float(r[idx][i]),
                    "conf": float(r[conf][i]) if conf else float("nan"),
                }
            )
    return _frame(rows)


def point_means(out: str | Path, outputs: Sequence[str], n_points: int) -> dict[str, np.ndarray]:
    """Each output's mean over replicates, per design point (NaN where no run finished)."""
    from upheaval.experiments.store import connect

    con = connect(out)
    try:
        cols = {c for c in [d[0] for d in con.execute("SELECT * FROM runs LIMIT 0").description]}
        for name in outputs:
            if name not in cols:
                raise SensitivityError(f"no summary column {name!r}; columns are {sorted(cols)}")
        select = ", ".join(f'avg("{name}") AS "{name}"' for name in outputs)
        rows = con.execute(f"SELECT point, {select} FROM runs GROUP BY point").fetchall()
    finally:
        con.close()
    means = {name: np.full(n_points, np.nan) for name in outputs}
    for row in rows:
        for j, name in enumerate(outputs):
            means[name][int(row[0])] = np.nan if row[j + 1] is None else float(row[j + 1])
    return means


def analyse_sweep(
    out: str | Path,
    outputs: Sequence[str] = ("peak_active",),
    *,
    conf_level: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Sobol' or Morris indices of ``outputs`` for the sweep in ``out`` (by its design)."""
    from upheaval.experiments.store import read_manifest

    m = read_manifest(out)
    d = m["design"]
    if d["kind"] not in ("sobol", "morris"):
        raise SensitivityError(
            f"{out}: a {d['kind']} design; sensitivity indices need --design sobol or morris"
        )
    factors = [Factor(**f) for f in d["factors"]]
    problem = {
        "num_vars": len(factors),
        "names": [f.name for f in factors],
        "bounds": [list(f.bounds()) for f in factors],
    }
    means = point_means(out, outputs, d["n_points"])
    missing = {name: int(np.isnan(y).sum()) for name, y in means.items()}
    if any(missing.values()):
        name = next(n for n, k in missing.items() if k)
        raise SensitivityError(
            f"{out}: {missing[name]} of {d['n_points']} points have no finished run "
            f"(or no value of {name}); finish the sweep (or --retry-failed) first"
        )
    import pandas as pd

    frames = []
    for name, Y in means.items():
        if d["kind"] == "sobol":
            frames.append(
                sobol_indices(
                    problem,
                    Y,
                    output=name,
                    second_order=d["settings"]["second_order"],
                    conf_level=conf_level,
                    resamples=resamples,
                    seed=seed,
                )
            )
        else:
            frames.append(
                morris_indices(
                    problem,
                    np.asarray(m["samples"]),
                    Y,
                    output=name,
                    levels=d["settings"]["levels"],
                    conf_level=conf_level,
                    resamples=resamples,
                    seed=seed,
                )
            )
    return pd.concat(frames, ignore_index=True)
