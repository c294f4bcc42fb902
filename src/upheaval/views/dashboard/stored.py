"""Stored runs the dashboard plays back: run directories under one results folder.

The server is given one folder (``upheaval serve --results DIR``) and lists the run
directories under it (``upheaval run`` output, found by their manifest, at most
:data:`DEPTH` levels down). A page names a run by the id the listing gave it; the id
is looked up in a fresh listing, never joined to a path, so a request cannot reach a
file outside the runs listed.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

from upheaval.model.ticks import COLUMNS
from upheaval.results.directories import RUN, kind_of
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

    def _directories(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        if self.root is None or not self.root.is_dir():
            return found

        def walk(d: Path, depth: int) -> None:
            if kind_of(d) is RUN:
                found[d.relative_to(self.root).as_posix() or "."] = d
                return
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

    def listing(self) -> list[dict[str, Any]]:
        """``{"id", "scenario", "seed", "status", "ticks", "snapshots"}`` per run."""
        out = []
        for rid, d in self._directories().items():
            try:
                m = read_manifest(d)
            except RunDirectoryError:
                continue
            out.append(
                {
                    "id": rid,
                    "scenario": m["scenario"]["name"],
                    "seed": m["seed"],
                    "status": m["status"],
                    "ticks": m.get("ticks", {}).get("count"),
                    "snapshots": list(m.get("snapshot_ticks") or []),
                }
            )
        return out

    def _find(self, rid: str) -> Path | None:
        return self._directories().get(rid)

    def run(self, rid: str) -> dict[str, Any] | None:
        """A run's ticks (columns of lists), its snapshot ticks, size and timeline."""
        d = self._find(rid)
        if d is None:
            return None
        try:
            m, table = read_run(d)
            snaps = self._snaps(rid, d)
        except (RunDirectoryError, ValueError):
            return None
        return {
            "id": rid,
            "scenario": m["scenario"]["name"],
            "description": m["scenario"].get("description", ""),
            "seed": m["seed"],
            "status": m["status"],
            "variant": m["variant"],
            "width": m["parameters"]["world.width"],
            "height": m["parameters"]["world.height"],
            "columns": list(COLUMNS),
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
        if d is None:
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


__all__ = ["DEPTH", "StoredRuns"]
