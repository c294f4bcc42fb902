"""Experimental designs: which parameter values each run of a sweep gets.

A design is a table of *points* (one row per point, one column per varied
parameter) plus the number of replicates per point. Parameters are addressed by
the same keys as ``--set`` (``legitimacy``, ``jail.max_jail_term``,
``cop_density`` …) and stored under their registry field name, which is a valid
SQL identifier.

Designs:

``grid``
    Every combination of each factor's levels (a range gives ``levels`` evenly
    spaced values; a list gives its values).
``lhs``
    Latin hypercube of ``samples`` points (SALib).
``sobol``
    Saltelli/Sobol' sequence for Sobol' indices: ``samples × (2D + 2)`` points
    (``× (D + 2)`` without second-order indices) (SALib).
``morris``
    ``samples`` Morris trajectories of ``D + 1`` points each (SALib).
``matrix``
    A user's sample matrix: a CSV or Parquet file with one named column per
    parameter.

Integer parameters (``world.width`` …) are sampled on ``[low − ½, high + ½]`` and
rounded half-up, so every integer in the range is equally likely. A list factor
(``ratio_rule=floor,literal``) is sampled through its index, every value equally
likely.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from upheaval.model.params import ParameterError, check_value
from upheaval.scenario.loading import ScenarioError, parse_override, resolve_key

DESIGNS = ("grid", "lhs", "sobol", "morris", "matrix")


class DesignError(ValueError):
    """A mistake in a design: ``where`` names the flag or file, ``reason`` what is wrong."""

    def __init__(self, where: str, reason: str):
        self.where, self.reason = where, reason
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Factor:
    """One varied parameter: a numeric range ``low..high`` or a list of ``values``."""

    name: str  # the registry field name (column name in the store)
    kind: str  # the registry kind: int, float, term, bool, choice
    low: float | None = None
    high: float | None = None
    values: tuple[Any, ...] = ()

    @property
    def is_range(self) -> bool:
        return not self.values

    def bounds(self) -> tuple[float, float]:
        """The interval SALib samples on (see the module docstring for ints and lists)."""
        if not self.is_range:
            return (0.0, float(len(self.values)))
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            return (self.low - 0.5, self.high + 0.5)
        return (self.low, self.high)

    def from_unit(self, x: np.ndarray) -> list[Any]:
        """Model values for samples ``x`` drawn on :meth:`bounds`."""
        if not self.is_range:
            idx = np.clip(np.floor(x).astype(np.int64), 0, len(self.values) - 1)
            return [self.values[i] for i in idx]
        if self.kind == "int":
            assert self.low is not None and self.high is not None
            r = np.clip(np.floor(x + 0.5), self.low, self.high)
            return [int(v) for v in r]
        return [float(v) for v in x]

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v not in (None, ())}


def parse_factor(text: str) -> Factor:
    """Parse ``--param`` text: ``key=low:high`` (a range) or ``key=v1,v2,…`` (a list)."""
    if "=" not in text:
        raise DesignError("--param", f"expected key=low:high or key=v1,v2,…, got {text!r}")
    key, _, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    try:
        f = resolve_key(key, "--param")
    except ScenarioError as e:
        raise DesignError("--param", f"{key}: {e.reason}") from None
    kind = f.kind
    loc = f.location

    def checked(raw: str) -> Any:
        _, value = parse_override(f"v={raw}")
        if kind in ("float", "term") and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        try:
            return check_value(f, value)
        except ParameterError as e:
            raise DesignError("--param", f"{key} ({loc}): {e.reason}") from None

    if ":" in spec and "," not in spec:
        if kind not in ("int", "float", "term"):
            raise DesignError(
                "--param", f"{key} ({loc}) is a {kind}; give its values as a list v1,v2,…"
            )
        lo_raw, _, hi_raw = spec.partition(":")
        lo, hi = checked(lo_raw), checked(hi_raw)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise DesignError("--param", f"{key}: a range needs finite ends, got {spec!r}")
        if hi <= lo:
            raise DesignError("--param", f"{key}: high must exceed low, got {spec!r}")
        if kind == "term" and (lo != int(lo) or hi != int(hi)):
            raise DesignError("--param", f"{key}: a term range needs whole ticks, got {spec!r}")
        # A term (jail term) is a whole number of ticks: sample it as an integer.
        return Factor(name=f.name, kind="int" if kind == "term" else kind, low=lo, high=hi)
    values = tuple(checked(v.strip()) for v in spec.split(",") if v.strip())
    if not values:
        raise DesignError("--param", f"{key}: no values in {spec!r}")
    if len(set(values)) != len(values):
        raise DesignError("--param", f"{key}: repeated values in {spec!r}")
    return Factor(name=f.name, kind=kind, values=values)


@dataclass(frozen=True)
class Design:
    """Points to run (``points[name]`` is one column per factor) and replicates per point.

    ``samples`` holds the raw sample matrix SALib drew (before rounding), which the
    sensitivity analysis of Morris designs needs; ``settings`` the arguments that
    made the design (recorded in the sweep's manifest).
    """

    kind: str
    factors: tuple[Factor, ...]
    points: dict[str, list[Any]]
    replicates: int = 1
    samples: np.ndarray | None = None
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: cells of a matrix file that are not a value of their column's kind, by
    #: (point, column): the raw cell (None if empty). ``points`` holds None there,
    #: so that the column keeps its type; the run of that point fails, naming it.
    bad_cells: dict[tuple[int, str], Any] = dataclasses.field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.factors)

    @property
    def n_points(self) -> int:
        return len(next(iter(self.points.values()))) if self.points else 1

    @property
    def n_runs(self) -> int:
        return self.n_points * self.replicates

    def point(self, i: int) -> dict[str, Any]:
        """The parameter overrides of point ``i`` (a bad matrix cell as it was read)."""
        return {name: self.bad_cells.get((i, name), col[i]) for name, col in self.points.items()}

    def problem(self) -> dict[str, Any]:
        """The SALib problem dictionary of this design's factors."""
        return {
            "num_vars": len(self.factors),
            "names": list(self.names),
            "bounds": [list(f.bounds()) for f in self.factors],
        }

    def to_manifest(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "factors": [f.to_dict() for f in self.factors],
            "n_points": self.n_points,
            "replicates": self.replicates,
            "settings": self.settings,
        }


def _check_factors(factors: Sequence[Factor]) -> tuple[Factor, ...]:
    names = [f.name for f in factors]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise DesignError("--param", f"{sorted(dup)[0]} is given more than once")
    return tuple(factors)


def _check_replicates(replicates: int) -> int:
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise DesignError("--replicates", f"must be a whole number ≥ 1, got {replicates!r}")
    return replicates


def _from_samples(
    kind: str,
    factors: tuple[Factor, ...],
    X: np.ndarray,
    replicates: int,
    settings: dict[str, Any],
) -> Design:
    points = {f.name: f.from_unit(X[:, j]) for j, f in enumerate(factors)}
    return Design(kind, factors, points, replicates, np.asarray(X, dtype=np.float64), settings)


def grid(factors: Sequence[Factor], levels: int = 5, replicates: int = 1) -> Design:
    """Full factorial design: ``levels`` values per range (ints deduplicated), lists as given."""
    factors = _check_factors(factors)
    replicates = _check_replicates(replicates)
    if levels < 1:
        raise DesignError("--samples", f"grid levels must be ≥ 1, got {levels}")
    axes: list[list[Any]] = []
    for f in factors:
        if not f.is_range:
            axes.append(list(f.values))
        elif f.kind == "int":
            assert f.low is not None and f.high is not None
            axes.append(sorted({int(round(v)) for v in np.linspace(f.low, f.high, levels)}))
        else:
            axes.append([float(v) for v in np.linspace(f.low, f.high, levels)])
    mesh = np.array(np.meshgrid(*[np.arange(len(a)) for a in axes], indexing="ij"))
    idx = mesh.reshape(len(axes), -1) if axes else np.zeros((0, 1), np.int64)
    points = {f.name: [axes[j][i] for i in idx[j]] for j, f in enumerate(factors)}
    return Design("grid", factors, points, replicates, None, {"levels": levels})


def latin_hypercube(
    factors: Sequence[Factor], samples: int, replicates: int = 1, seed: int = 0
) -> Design:
    """Latin hypercube of ``samples`` points over the factors' ranges (SALib)."""
    from SALib.sample import latin

    factors = _check_factors(factors)
    _need_factors(factors, "lhs")
    d = Design("lhs", factors, {}, 1)
    X = latin.sample(d.problem(), samples, seed=seed)
    return _from_samples(
        "lhs", factors, X, _check_replicates(replicates), {"samples": samples, "seed": seed}
    )


def sobol(
    factors: Sequence[Factor],
    samples: int,
    replicates: int = 1,
    seed: int = 0,
    second_order: bool = True,
) -> Design:
    """Saltelli's extension of the Sobol' sequence, for Sobol' indices (SALib).

    ``samples`` is the base sample size N (a power of two keeps the sequence
    balanced); the design has ``N (2D + 2)`` points, ``N (D + 2)`` without
    second-order indices.
    """
    from SALib.sample import sobol as sobol_sample

    factors = _check_factors(factors)
    _need_factors(factors, "sobol")
    d = Design("sobol", factors, {}, 1)
    X = sobol_sample.sample(d.problem(), samples, calc_second_order=second_order, seed=seed)
    settings = {"samples": samples, "seed": seed, "second_order": second_order}
    return _from_samples("sobol", factors, X, _check_replicates(replicates), settings)


def morris(
    factors: Sequence[Factor],
    samples: int,
    replicates: int = 1,
    seed: int = 0,
    levels: int = 4,
) -> Design:
    """``samples`` Morris trajectories on a ``levels``-level grid (SALib)."""
    from SALib.sample import morris as morris_sample

    factors = _check_factors(factors)
    _need_factors(factors, "morris")
    d = Design("morris", factors, {}, 1)
    X = morris_sample.sample(d.problem(), samples, num_levels=levels, seed=seed)
    settings = {"samples": samples, "seed": seed, "levels": levels}
    return _from_samples("morris", factors, X, _check_replicates(replicates), settings)


def _need_factors(factors: tuple[Factor, ...], kind: str) -> None:
    if not factors:
        raise DesignError("--param", f"a {kind} design needs at least one --param")


def from_matrix(path: str | Path, replicates: int = 1) -> Design:
    """A user's sample matrix: CSV or Parquet, one named column per parameter.

    Column names are ``--set`` keys; values are checked when each run starts, so a
    bad value fails that run, not the sweep. A cell that is not even of its
    column's kind (text in a column of numbers, an empty cell) makes only its row's
    runs fail: the column keeps its type, and the cell is kept in
    :attr:`Design.bad_cells` for the error.
    """
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise DesignError(str(path), "no such file")
    try:
        if path.suffix.lower() == ".parquet":
            table = pq.read_table(path)
        elif path.suffix.lower() == ".csv":
            table = pacsv.read_csv(path)
        else:
            raise DesignError(str(path), "expected a .csv or .parquet file")
    except DesignError:
        raise
    except Exception as e:
        raise DesignError(str(path), f"cannot read: {e}") from None
    if table.num_rows == 0:
        raise DesignError(str(path), "no rows")
    factors: list[Factor] = []
    points: dict[str, list[Any]] = {}
    bad: dict[tuple[int, str], Any] = {}
    for col in table.column_names:
        try:
            f = resolve_key(col, str(path))
        except ScenarioError as e:
            raise DesignError(str(path), f"column {col!r}: {e.reason}") from None
        kind = f.kind
        values = []
        for row, raw in enumerate(table.column(col).to_pylist()):
            value = _cell(raw, kind)
            if value is None:  # kept as read, None for an empty cell
                empty = raw is None or (isinstance(raw, str) and not raw.strip())
                bad[(row, f.name)] = None if empty else raw
            values.append(value)
        good = [v for v in values if v is not None]
        factors.append(Factor(name=f.name, kind=kind, values=tuple(dict.fromkeys(good))))
        points[f.name] = values
    return Design(
        "matrix",
        _check_factors(factors),
        points,
        _check_replicates(replicates),
        None,
        {"path": str(path)},
        bad,
    )


def _cell(raw: Any, kind: str) -> Any:
    """A matrix cell as a value of ``kind``, or None if it cannot be one. A column
    with one text cell is read as text throughout, so numbers come back from text."""
    if isinstance(raw, str) and kind in ("float", "term", "int", "bool"):
        raw = raw.strip()
        try:
            _, raw = parse_override(f"v={raw}") if raw else ("v", None)
        except ScenarioError:
            return None
    if raw is None:
        return None
    if kind in ("float", "term"):
        ok = isinstance(raw, int | float) and not isinstance(raw, bool)
        return float(raw) if ok else None
    if kind == "int":
        # CSV readers type "40" as int but "40.0" as float; accept whole floats.
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if kind == "bool":
        return raw if isinstance(raw, bool) else None
    return raw  # a choice: checked against its choices when the run starts


def make_design(
    kind: str,
    factors: Sequence[Factor] = (),
    *,
    samples: int | None = None,
    replicates: int = 1,
    seed: int = 0,
    matrix: str | Path | None = None,
    levels: int = 4,
    second_order: bool = True,
) -> Design:
    """Build a design by name (the CLI's ``--design``)."""
    if kind not in DESIGNS:
        raise DesignError("--design", f"expected one of {', '.join(DESIGNS)}, got {kind!r}")
    if kind == "matrix":
        if matrix is None:
            raise DesignError("--design", "a matrix design needs --matrix FILE")
        if factors:
            raise DesignError("--param", "a matrix design takes its parameters from the file")
        return from_matrix(matrix, replicates)
    if matrix is not None:
        raise DesignError("--matrix", f"only used with --design matrix, not {kind}")
    if kind == "grid":
        return grid(factors, levels=samples or 5, replicates=replicates)
    if samples is None or samples < 1:
        raise DesignError("--samples", f"a {kind} design needs --samples N ≥ 1")
    if kind == "lhs":
        return latin_hypercube(factors, samples, replicates, seed)
    if kind == "sobol":
        return sobol(factors, samples, replicates, seed, second_order)
    return morris(factors, samples, replicates, seed, levels)


def design_json(design: Design) -> str:
    """The design's manifest entry as canonical JSON (compared on resume)."""
    return json.dumps(design.to_manifest(), sort_keys=True, default=str)
