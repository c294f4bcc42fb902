"""Parameter draws from a posterior, for comparisons over parameter uncertainty.

A posterior file is one of:

* a calibration's JSON with weighted particles under ``posterior.particles`` (as
  ``scripts/kz2022_calibration.py`` writes; a top-level ``particles`` list, or a
  bare list of particles, is read the same way): each particle an object of
  ``--set`` keys to numbers and an optional ``weight``;
* a CSV or Parquet table, one row a particle, one column a parameter (``--set``
  keys), and an optional ``weight`` column.

:func:`load_posterior` reads and checks it (every error names the file and, where
there is one, the column and row); :func:`resample_draws` draws rows by weight with
a generator seeded from the comparison's seed, so the same seed gives the same
draws.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: The column that holds a particle's weight (any other column is a parameter).
WEIGHT = "weight"
#: The spawn key of the resampling generator under the comparison's root seed: runs use
#: two-element keys (point, replicate), so a one-element key never collides with them.
RESAMPLE_KEY = (10,)


class PosteriorError(ValueError):
    """A posterior file that cannot be used: ``where`` names the file (and column)."""

    def __init__(self, where: str | Path, reason: str):
        self.where, self.reason = str(where), reason
        super().__init__(f"--posterior {where}: {reason}")


def _read(path: Path) -> pd.DataFrame:
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            doc = json.loads(path.read_text("utf-8"))
            particles: Any = doc
            if isinstance(doc, dict):
                particles = doc.get("posterior", doc).get("particles")
            if not isinstance(particles, list):
                raise PosteriorError(
                    path, "no particle list (expected posterior.particles, particles or a list)"
                )
            if not all(isinstance(p, dict) for p in particles):
                raise PosteriorError(path, "every particle must be an object of key: value")
            return pd.DataFrame(particles)
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix == ".parquet":
            return pd.read_parquet(path)
    except PosteriorError:
        raise
    except Exception as e:  # a malformed file of any kind: say what the reader said
        raise PosteriorError(path, f"cannot read: {e}") from None
    raise PosteriorError(path, "expected a .json, .csv or .parquet file")


def check_draws(table: pd.DataFrame, where: str | Path) -> pd.DataFrame:
    """The table with columns of numbers, known keys and good weights, or PosteriorError
    naming the column (and the row, counted from 1)."""
    import pandas as pd

    from upheaval.scenario.loading import ScenarioError, resolve_key

    if len(table) == 0:
        raise PosteriorError(where, "no particles")
    params = [c for c in table.columns if c != WEIGHT]
    if not params:
        raise PosteriorError(where, "no parameter columns")
    for col in params:
        try:
            resolve_key(str(col), str(where))
        except ScenarioError as e:
            raise PosteriorError(where, f"column {col!r}: {e.reason}") from None
    out = pd.DataFrame(index=range(len(table)))
    for col in table.columns:
        raw = table[col].reset_index(drop=True)
        values = pd.to_numeric(raw, errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=np.float64)))
        if bad.size:
            i = int(bad[0])
            raise PosteriorError(
                where, f"column {col!r}, row {i + 1}: {raw.iloc[i]!r} is not a finite number"
            )
        out[str(col)] = values.astype(np.float64)
    if WEIGHT in out and ((out[WEIGHT] < 0).any() or out[WEIGHT].sum() <= 0):
        raise PosteriorError(where, "column 'weight': weights must be ≥ 0 with a positive sum")
    return out


def load_posterior(path: str | Path) -> pd.DataFrame:
    """A posterior file (module docstring) as a table of floats: the parameter columns
    under their ``--set`` keys, and ``weight`` if the file has weights."""
    path = Path(path)
    if not path.is_file():
        raise PosteriorError(path, "no such file")
    return check_draws(_read(path), path)


def resample_draws(posterior: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """``n`` rows of ``posterior`` drawn with replacement, with probability proportional
    to ``weight`` (equal without it), from a generator seeded by ``seed``; the weight
    column is dropped. ``n`` None: a weighted posterior is resampled to its own size,
    an unweighted one is taken as it is (every row once, in order)."""
    if n is not None and (isinstance(n, bool) or n < 1):
        raise ValueError(f"--draws: must be ≥ 1, got {n}")
    params = posterior.drop(columns=[WEIGHT], errors="ignore")
    if n is None and WEIGHT not in posterior:
        return params.reset_index(drop=True)
    w = (
        posterior[WEIGHT].to_numpy(np.float64)
        if WEIGHT in posterior
        else np.ones(len(posterior), np.float64)
    )
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=RESAMPLE_KEY))
    picks = rng.choice(len(posterior), size=len(posterior) if n is None else n, p=w / w.sum())
    out = params.iloc[picks].reset_index(drop=True)
    # which particle each draw is: kept with the draws, so a reader can trace them back
    out.attrs["particles"] = [int(i) for i in picks]
    return out


def draws_digest(draws: pd.DataFrame) -> str:
    """A short fingerprint of the draws (columns and exact values), for a resumed
    comparison to check that it runs over the same posterior."""
    import hashlib

    h = hashlib.sha256()
    h.update(json.dumps(list(map(str, draws.columns))).encode())
    h.update(np.ascontiguousarray(draws.to_numpy(np.float64)).tobytes())
    return h.hexdigest()[:16]


__all__ = [
    "WEIGHT",
    "PosteriorError",
    "check_draws",
    "draws_digest",
    "load_posterior",
    "resample_draws",
]
