"""Stored runs the dashboard plays back: run directories, and the runs of sweeps that
kept their ticks, under one results folder.

The server is given one folder (``upheaval serve --results DIR``) and lists what is
under it, at most :data:`DEPTH` levels down, found by its marker: each run directory
(``upheaval run``), and each run of a sweep written with ``keep_ticks`` (``upheaval
sweep --keep-ticks``; at most :data:`SWEEP_RUNS` a sweep), named
``SWEEP@pPOINT-rREPLICATE``. A page names a run by the id the listing gave it; the
id is looked up in a fresh listing, never joined to a path, so a request cannot
reach a file outside the runs listed. A sweep's run has its time series, no
snapshots (sweeps keep none).
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

from upheaval.model.ticks import COLUMNS, FLOAT_COLUMNS, PLACE, national
from upheaval.results.directories import RUN, SWEEP, kind_of
from upheaval.results.recorder import (
    FIGURE,
    MANIFEST,
    SNAPSHOTS,
    RunDirectoryError,
    read_manifest,
    read_run,
    read_snapshots,
)

from .frames import snapshot_indices

#: How deep under the results folder run directories are looked for.
DEPTH = 3
#: Most runs of one sweep listed.
SWEEP_RUNS = 500
_SKIP = {"ticks", "snapshots", "summaries", "variants", ".git", "__pycache__", "node_modules"}


def _marks(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    marks = []
    for e in entries:
        if e.get("kind") == "set":
            marks.append({"tick": e["tick"], "label": f"{e['parameter']} = {e['value']}"})
        elif e.get("kind") == "ramp":
            marks.append(
                {
                    "tick": e["start"],
                    "end": e["end"],
                    "label": f"{e['parameter']} → {e['value']} (ramp)",
                }
            )
        elif e.get("kind") == "action":
            marks.append({"tick": e["tick"], "label": e["action"]})
    return marks


class StoredRuns:
    """The run directories under ``root`` (module docstring); ``root`` None: none."""

    def __init__(self, root: Path | None):
        self.root = Path(root).resolve() if root is not None else None
        self._snapshots: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def _directories(self) -> dict[str, Any]:
        """Id → run directory, and id → sweep directory for sweeps that kept ticks
        (their runs' ids are added by :meth:`_sweep_runs`)."""
        found: dict[str, Path] = {}
        if self.root is None or not self.root.is_dir():
            return found

        def walk(d: Path, depth: int) -> None:
            kind = kind_of(d)
            if kind is RUN:
                found[d.relative_to(self.root).as_posix() or "."] = d
                return
            if kind is SWEEP:
                for rid, run in self._sweep_runs(d).items():
                    found[rid] = run
                return
            if kind is not None:
                return  # a calibration's or comparison's sweeps are its own workings
            if depth == DEPTH:
                return
            try:
                children = sorted(p for p in d.iterdir() if p.is_dir() and not p.is_symlink())
            except OSError:
                return
            for c in children:
                if c.name not in _SKIP and not c.name.startswith("."):
                    walk(c, depth + 1)

        walk(self.root, 0)
        return found

    def _sweep_runs(self, d: Path) -> dict[str, Any]:
        """Id → ``_SweepRun`` for each finished run of a sweep that kept its ticks."""
        from upheaval.experiments.store import StoreError, read_runs
        from upheaval.experiments.store import read_manifest as sweep_manifest

        try:
            m = sweep_manifest(d)
            if not m.get("keep_ticks"):
                return {}
            runs = read_runs(d)
        except (StoreError, ValueError, OSError):
            return {}
        rel = d.relative_to(self.root).as_posix() or "."
        factors = [f["name"] for f in m["design"]["factors"]]
        out: dict[str, Any] = {}
        cols = {c: runs.column(c).to_pylist() for c in ("point", "replicate", *factors)}
        for k in range(min(runs.num_rows, SWEEP_RUNS)):
            point, rep = cols["point"][k], cols["replicate"][k]
            values = ", ".join(
                f"{f} = {cols[f][k]:.4g}"
                if isinstance(cols[f][k], float)
                else f"{f} = {cols[f][k]}"
                for f in factors
            )
            out[f"{rel}@p{point}-r{rep}"] = _SweepRun(d, m, int(point), int(rep), values)
        return out

    def listing(self) -> list[dict[str, Any]]:
        """``{"id", "label", "scenario", "status", "ticks", "snapshots"}`` per run (and
        ``seed`` for a run directory)."""
        out = []
        for rid, d in self._directories().items():
            if isinstance(d, _SweepRun):
                out.append(
                    {
                        "id": rid,
                        "label": f"{d.manifest['scenario']['name']}, point {d.point} "
                        f"replicate {d.replicate}: {d.values}",
                        "scenario": d.manifest["scenario"]["name"],
                        "status": "sweep run",
                        "ticks": d.manifest.get("steps"),
                        "snapshots": [],
                    }
                )
                continue
            try:
                m = read_manifest(d)
            except RunDirectoryError:
                continue
            out.append(
                {
                    "id": rid,
                    "label": f"{m['scenario']['name']}, seed {m['seed']}, "
                    f"{m.get('ticks', {}).get('count')} ticks",
                    "scenario": m["scenario"]["name"],
                    "seed": m["seed"],
                    "status": m["status"],
                    "ticks": m.get("ticks", {}).get("count"),
                    "snapshots": list(m.get("snapshot_ticks") or []),
                }
            )
        return out

    def _find(self, rid: str) -> Any:
        return self._directories().get(rid)

    def run(self, rid: str) -> dict[str, Any] | None:
        """A run's ticks (columns of lists), its snapshot ticks, size and timeline."""
        d = self._find(rid)
        if d is None:
            return None
        if isinstance(d, _SweepRun):
            table = d.ticks()
            if table is None:
                return None
            if PLACE in table.column_names:
                table = national(table)
            params = d.manifest["scenario"]["parameters"]
            return {
                "id": rid,
                "title": f"{d.manifest['scenario']['name']}, point {d.point} replicate "
                f"{d.replicate} of the sweep: {d.values}",
                "scenario": d.manifest["scenario"]["name"],
                "description": d.values,
                "status": "sweep run",
                "variant": params["model.variant"],
                "width": params["world.width"],
                "height": params["world.height"],
                "columns": list(COLUMNS),
                "float_columns": list(FLOAT_COLUMNS),
                "rows": [table.column(c).to_pylist() for c in COLUMNS],
                "snapshots": [],
                "timeline": _marks(d.manifest["scenario"].get("timeline") or []),
                "files": ["ticks.parquet"],
            }
        try:
            m, table = read_run(d)
            country = PLACE in table.column_names
            # a country's run plays back the nation's rows (its places' lattices not yet)
            snaps = {} if country else self._snaps(rid, d)
            if country:
                table = national(table)
        except (RunDirectoryError, ValueError):
            return None
        return {
            "id": rid,
            "title": f"{m['scenario']['name']}, seed {m['seed']} ({m['status']})",
            "scenario": m["scenario"]["name"],
            "description": m["scenario"].get("description", ""),
            "seed": m["seed"],
            "status": m["status"],
            "variant": m["variant"],
            "width": m["parameters"]["world.width"],
            "height": m["parameters"]["world.height"],
            "columns": list(COLUMNS),
            "float_columns": list(FLOAT_COLUMNS),
            "rows": [table.column(c).to_pylist() for c in COLUMNS],
            "snapshots": sorted(snaps),
            "timeline": _marks(m.get("timeline") or []),
            "files": ["ticks.parquet", MANIFEST, FIGURE, *([SNAPSHOTS] if snaps else [])],
        }

    def _snaps(self, rid: str, d: Path) -> dict:
        stamp = max((p.stat().st_mtime for p in d.iterdir()), default=0.0)
        with self._lock:
            cached = self._snapshots.get(rid)
            if cached and cached[0] == stamp:
                return cached[1]
        snaps = read_snapshots(d)
        with self._lock:
            if len(self._snapshots) > 8:
                self._snapshots.clear()
            self._snapshots[rid] = (stamp, snaps)
        return snaps

    def snapshot(self, rid: str, tick: int) -> bytes | None:
        """One snapshot's palette indices (one byte a site, site order)."""
        d = self._find(rid)
        if d is None or isinstance(d, _SweepRun):
            return None
        try:
            snaps = self._snaps(rid, d)
        except (RunDirectoryError, ValueError):
            return None
        s = snaps.get(tick)
        if s is None:
            return None
        return snapshot_indices(s["occupant"], s["group"]).tobytes()

    def file(self, rid: str, name: str) -> tuple[bytes, str, str] | None:
        """(bytes, media type, file name) of one of a run's files, by its fixed name."""
        d = self._find(rid)
        if d is None:
            return None
        if isinstance(d, _SweepRun):
            table = d.ticks() if name == "ticks.parquet" else None
            if table is None:
                return None
            import pyarrow.parquet as pq

            buf = io.BytesIO()
            pq.write_table(table, buf)
            return buf.getvalue(), "application/vnd.apache.parquet", name
        try:
            if name == "ticks.parquet":
                import pyarrow.parquet as pq

                _, table = read_run(d)  # merged from parts if the run was not closed
                buf = io.BytesIO()
                pq.write_table(table, buf)
                return buf.getvalue(), "application/vnd.apache.parquet", name
            if name == MANIFEST:
                return (d / MANIFEST).read_bytes(), "application/json", name
            if name == SNAPSHOTS and (d / SNAPSHOTS).is_file():
                return (d / SNAPSHOTS).read_bytes(), "application/vnd.apache.parquet", name
            if name == FIGURE:
                if (d / FIGURE).is_file():
                    return (d / FIGURE).read_bytes(), "image/png", name
                from .app import _figure_png

                m, table = read_run(d)
                return _figure_png(table, m["variant"] == "II"), "image/png", name
        except (OSError, RunDirectoryError, ValueError):
            return None
        return None


class _SweepRun:
    """One run of a sweep that kept its ticks: the sweep, its point and replicate."""

    def __init__(self, sweep: Path, manifest: dict, point: int, replicate: int, values: str):
        self.sweep, self.manifest = sweep, manifest
        self.point, self.replicate, self.values = point, replicate, values

    def ticks(self):
        """Its tick rows (the sweep's confined, read-only query), or None."""
        from upheaval.experiments.store import QueryError, StoreError, query

        try:
            return query(
                self.sweep,
                f"SELECT * FROM ticks WHERE point = {self.point} "
                f"AND replicate = {self.replicate} ORDER BY tick",
            )
        except (QueryError, StoreError, ValueError):
            return None


__all__ = ["DEPTH", "SWEEP_RUNS", "StoredRuns"]
