"""Output directories: a command writes only into a directory of its own kind.

Every command that writes (``run``, ``sweep``, ``calibrate``, ``compare``, and their
Python functions) asks this module for its output directory first. The rules:

* a path that does not exist is created (with its parents);
* an empty directory is used as it is;
* a directory that holds anything is used only if it is of the command's own
  *kind* — it has the kind's marker file, which that command wrote when it
  created it — and then only to resume (sweep, calibration, comparison) or, with
  ``overwrite``/``--force``, to be cleared;
* clearing removes only the names that kind of directory holds
  (:attr:`Kind.holds`); if the directory holds anything else, nothing at all is
  removed and the command refuses. A directory of another kind, or of none, is
  never written to, with or without ``--force``.

So a mistyped ``--out`` (a home directory, a project folder, another command's
results) can neither lose a file nor get one written into it. Markers are checked
by content, not only by name: a ``manifest.json`` must be an upheaval manifest of
the right kind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ErrorFactory = Callable[[Path, str], Exception]


@dataclass(frozen=True)
class Kind:
    """A kind of output directory: its name, its marker and what it may hold."""

    name: str  # "run", "sweep", "calibration", "comparison"
    marker: str  # the file whose content says the directory is of this kind
    formats: tuple[str, ...]  # values of the marker's "format" field
    # or, for markers written before they had a "format": the keys they have (empty:
    # every marker of this kind has a format)
    legacy_keys: tuple[str, ...]
    holds: tuple[str, ...]  # regular expressions of the names the directory may hold

    def owns(self, name: str) -> bool:
        """Whether an entry called ``name`` is one this kind of directory holds."""
        return any(re.fullmatch(p, name) for p in self.holds)

    def is_marked(self, directory: Path) -> bool:
        """Whether ``directory`` has this kind's marker (read and checked)."""
        path = directory / self.marker
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return False
        if not isinstance(data, dict):
            return False
        if data.get("format") in self.formats:
            return True
        legacy = bool(self.legacy_keys) and "format" not in data
        return legacy and all(k in data for k in self.legacy_keys)


_TMP = r"\.?[^/]*\.tmp"  # a file being written (renamed into place when complete)

RUN = Kind(
    "run",
    marker="manifest.json",
    formats=("upheaval-run/1",),
    legacy_keys=(),  # run manifests always had a format
    holds=(
        r"manifest\.json",
        r"ticks\.parquet",
        r"ticks",  # the parts a run writes while it goes (recorder.py)
        r"snapshots\.parquet",
        r"snapshots",
        r"links\.parquet",  # a country's links, the forces by unit (recorder.py)
        r"links",
        r"units\.parquet",
        r"units",
        r"timeseries\.png",
        r"map\.png",  # a country's map (views/maps.py)
        _TMP,
    ),
)
SWEEP = Kind(
    "sweep",
    marker="manifest.json",
    formats=("upheaval-sweep/1",),
    legacy_keys=("design", "n_runs", "scenario"),
    holds=(
        r"manifest\.json",
        r"design\.parquet",
        r"status\.jsonl",
        r"summaries",
        r"ticks",
        r"\.lock",
        r"sensitivity\.(csv|png)",
        _TMP,
    ),
)
CALIBRATION = Kind(
    "calibration",
    marker="calibration.json",
    formats=("upheaval-calibration/1",),
    legacy_keys=("settings",),
    holds=(
        r"calibration\.json",
        r"gen-\d{2,}",  # each holds round-RR sweeps
        r"particles\.(parquet|csv)",
        r"posterior\.(csv|png)",
        r"generations\.csv",
        _TMP,
    ),
)
COMPARISON = Kind(
    "comparison",
    marker="comparison.json",
    formats=("upheaval-comparison/1",),
    legacy_keys=(),
    holds=(
        r"comparison\.json",
        r"variants",  # one sweep per variant
        r"variants\.json",
        r"runs\.parquet",
        r"compare\.(csv|parquet|png)",
        _TMP,
    ),
)
KINDS = (RUN, SWEEP, CALIBRATION, COMPARISON)


def kind_of(directory: str | Path) -> Kind | None:
    """The kind of output directory ``directory`` is, or None."""
    d = Path(directory)
    for kind in KINDS:
        if kind.is_marked(d):
            return kind
    # A comparison made before comparison.json existed: its variants.json at the end.
    if (d / "variants.json").is_file() and (d / "variants").is_dir():
        return COMPARISON
    return None


def _an_entry(directory: Path, accept: Callable[[str], bool]) -> str | None:
    return next((p.name for p in sorted(directory.iterdir()) if not accept(p.name)), None)


def claim(
    out: str | Path,
    kind: Kind,
    *,
    overwrite: bool,
    error: ErrorFactory,
    resume: bool,
    overwrite_hint: str = "overwrite=True",
) -> tuple[Path, bool]:
    """Make ``out`` ready for ``kind``'s results; returns ``(path, resuming)``.

    ``resuming`` is True when ``out`` already holds results of this kind and
    neither ``overwrite`` was asked nor is ``resume`` refused (``resume=False``,
    as for a run, makes a non-empty run directory an error without ``overwrite``).
    With ``overwrite``, a directory of this kind is cleared first (module
    docstring). Raises ``error(path, reason)`` for anything else.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise error(out, "exists and is not a directory")
    if not out.exists():
        _make(out, error)
        return out, False
    try:
        empty = not any(out.iterdir())
    except OSError as e:
        raise error(out, f"cannot read the directory: {e.strerror or e}") from None
    if empty:
        _check_writable(out, error)
        return out, False
    found = kind_of(out)
    if found is None:
        raise error(
            out,
            f"is not empty and holds no {kind.name} results "
            f"(e.g. {_an_entry(out, lambda n: False)!r}); refusing to write into it or "
            "remove anything; choose another output directory",
        )
    if found is not kind:
        raise error(
            out,
            f"holds the results of a {found.name}, not of a {kind.name}; "
            "refusing to write into it or remove anything; choose another output directory",
        )
    if not overwrite:
        if not resume:
            raise error(
                out,
                f"directory is not empty (a previous {kind.name}); choose another "
                f"output directory or pass {overwrite_hint}",
            )
        _check_writable(out, error)
        return out, True
    clear(out, kind, error)
    return out, False


def clear(out: Path, kind: Kind, error: ErrorFactory, keep: tuple[str, ...] = ()) -> None:
    """Remove what ``kind`` holds from ``out`` (except the names in ``keep``); refuse,
    removing nothing, if ``out`` holds anything else."""
    foreign = _an_entry(out, kind.owns)
    if foreign is not None:
        raise error(
            out,
            f"holds {foreign!r}, which a {kind.name} directory does not; "
            "refusing to remove anything",
        )
    for p in sorted(out.iterdir()):
        # The marker goes last: a clear cut short leaves a directory still marked,
        # so that running the command again may finish it.
        if p.name == kind.marker or p.name in keep:
            continue
        _remove(p, error)
    _remove(out / kind.marker, error)


def _remove(p: Path, error: ErrorFactory) -> None:
    try:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)
    except OSError as e:
        raise error(p, f"cannot remove: {e.strerror or e}") from None


def _make(out: Path, error: ErrorFactory) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise error(out, "a parent of it is a file, not a directory") from None
    except NotADirectoryError:
        raise error(out, "a parent of it is a file, not a directory") from None
    except OSError as e:
        raise error(out, f"cannot create the directory: {e.strerror or e}") from None
    _check_writable(out, error)


def _check_writable(out: Path, error: ErrorFactory) -> None:
    # os.access is not enough: root passes it on a read-only mount, and a full disk
    # passes it too. Creating (and removing) a file is the real test.
    probe = out / f".upheaval-write-test-{os.getpid()}.tmp"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise error(out, f"cannot write into the directory: {e.strerror or e}") from None
