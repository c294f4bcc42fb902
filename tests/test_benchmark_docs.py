"""The speed figures of README.md, benchmarks/README.md and docs/experiments.md against
the benchmark records (benchmarks/results/<benchmark>/*.json): generated, never typed,
and checked here. No benchmark runs in this file; it reads the records only."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import _records  # noqa: E402


def _load_report():
    spec = importlib.util.spec_from_file_location(
        "benchmarks_report", ROOT / "scripts" / "benchmarks_report.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


report = _load_report()


def _copy_tree(tmp: Path) -> Path:
    for doc in report.DOCS:
        (tmp / doc).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / doc, tmp / doc)
    shutil.copytree(ROOT / "benchmarks" / "results", tmp / "benchmarks" / "results")
    return tmp


def test_docs_match_the_benchmark_records():
    assert report.main(["--check"]) == 0, "run: python scripts/benchmarks_report.py"


def test_every_generated_block_is_in_its_document():
    for doc, names in report.DOCS.items():
        text = (ROOT / doc).read_text("utf-8")
        for name in names:
            assert f"<!-- BEGIN GENERATED: {name} " in text, (doc, name)
            assert f"<!-- END GENERATED: {name} -->" in text, (doc, name)


def test_a_changed_record_makes_the_docs_stale(tmp_path):
    root = _copy_tree(tmp_path)
    assert report.main(["--check", "--root", str(root)]) == 0
    latest = sorted((root / "benchmarks" / "results" / "vs_mesa").glob("*.json"))[-1]
    rec = json.loads(latest.read_text())
    size = rec["results"]["sizes"][0]
    size["ours"]["agent_steps_per_s"] = [x * 1.5 for x in size["ours"]["agent_steps_per_s"]]
    if "ratios" in size:
        size["ratios"]["wall"] = [x * 1.5 for x in size["ratios"]["wall"]]
    latest.write_text(json.dumps(rec))
    doc = root / "benchmarks" / "README.md"
    before = doc.read_text()
    assert report.main(["--check", "--root", str(root)]) == 1
    assert doc.read_text() == before  # --check never writes
    assert report.main(["--root", str(root)]) == 0
    assert report.main(["--check", "--root", str(root)]) == 0
    assert doc.read_text() != before


def test_a_hand_edited_figure_is_caught(tmp_path):
    root = _copy_tree(tmp_path)
    doc = root / "benchmarks" / "README.md"
    text = doc.read_text()
    start = text.index("<!-- BEGIN GENERATED: vs_mesa_latest")
    edited = text[:start] + text[start:].replace("×", "x", 1)
    assert edited != text
    doc.write_text(edited)
    assert report.main(["--check", "--root", str(root)]) == 1


def _record(ratio_40: float, aps_2000: float, repeats: int = 5) -> dict:
    def size(w: int, ours: float, mesa: float | None) -> dict:
        row = {
            "width": w,
            "height": w,
            "ours": {"agent_steps_per_s": [ours] * repeats, "n_agents": [100] * repeats},
        }
        if mesa is not None:
            row["mesa"] = {"agent_steps_per_s": [mesa] * repeats}
            row["ratios"] = {k: [ours / mesa] * repeats for k in ("wall", "cpu")}
        return row

    return {
        "created": "2026-12-03T00:00:00Z",
        "git": {"commit": "0" * 40, "src_dirty": False},
        "machine": {"cpus": 2, "loadavg_start": [1.0], "loadavg_end": [1.0]},
        "settings": {"repeats": repeats, "quick": False},
        "results": {
            "sizes": [size(40, ratio_40 * 1e4, 1e4), size(2000, aps_2000, None)],
            "memory": None,
        },
        "_file": "x.json",
    }


def test_a_target_is_met_only_when_every_full_run_meets_it():
    good, bad = _record(150, 9e6), _record(150, 7e6)
    verdict = dict(report.verdicts([good, bad]))
    assert verdict["≥ 100× Mesa at 40×40"].startswith("**met** in 2 of 2")
    assert verdict["≥ 8 M agent-steps/s at 2000×2000"].startswith("**not met**: met in 1 of 2")
    # a run with fewer than five repeats does not decide a verdict
    few = copy.deepcopy(bad)
    few["settings"]["repeats"] = 3
    verdict = dict(report.verdicts([good, few]))
    assert verdict["≥ 8 M agent-steps/s at 2000×2000"].startswith("**met** in 1 of 1")


def test_med_range_gives_the_median_and_the_range():
    assert report.med_range([3.0, 1.0, 2.0], lambda v: f"{v:g}") == "2 (1–3)"
    assert report.med_range([5.0], lambda v: f"{v:g}") == "5"
    assert report.med_range([], lambda v: f"{v:g}") == "—"


def test_records_are_appended_never_overwritten(tmp_path):
    start = {"started": "2026-12-03T00:00:00Z", "loadavg_start": [0.5, 0.5, 0.5]}
    a = _records.write_record("demo", start, {"repeats": 5}, {"x": 1}, results_dir=tmp_path)
    b = _records.write_record("demo", start, {"repeats": 5}, {"x": 2}, results_dir=tmp_path)
    assert a != b and a.is_file() and b.is_file()
    assert json.loads(a.read_text())["results"] == {"x": 1}
    got = _records.load_records("demo", results_dir=tmp_path)
    assert [r["results"]["x"] for r in got] == [1, 2]
    rec = got[0]
    assert rec["git"]["commit"] and rec["machine"]["cpu_model"]
    assert rec["machine"]["loadavg_start"] == [0.5, 0.5, 0.5]
    assert len(rec["machine"]["loadavg_end"]) == 3


def test_every_committed_record_says_what_it_ran_on():
    for bench in report.BENCHMARKS:
        for rec in _records.load_records(bench):
            assert rec["benchmark"] == bench, rec["_file"]
            assert rec["created"][:4] == "2026", rec["_file"]
            assert {"git", "machine", "settings", "results"} <= set(rec), rec["_file"]
            if "folded_from" not in rec:  # written by _records.py: nothing missing
                assert rec["git"]["commit"] and rec["machine"]["cpu_model"], rec["_file"]
                assert rec["machine"]["loadavg_start"], rec["_file"]


def test_country_table_matches_its_records():
    # benchmarks/README.md's country table: each row names its record; every figure
    # in it is that record's, rounded as printed.
    text = (ROOT / "benchmarks" / "README.md").read_text("utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `country-")]
    assert len(rows) >= 3
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        # the record's file in backquotes, maybe followed by the commit it measured
        name = re.match(r"`([^`]+)`", cells[0]).group(1)
        rec = json.loads((ROOT / "benchmarks" / "results" / "country" / name).read_text())
        s = rec["summary"]
        scale, ticks = cells[1].split(", ")
        assert scale == f"1:{rec['scale']:g}" and int(ticks) == rec["ticks"]
        # the medians over a record's repeats, as its summary takes them
        ns = {
            kind: statistics.median(
                1e9 * x["cpu_s"] / x["agent_steps"]
                for x in rec["runs"]
                if x["kind"] == kind and x["threads"] == 1
            )
            for kind in ("country", "lattice")
        }
        assert cells[3] == (
            f"{s['coupling_overhead']:.2f} ({ns['country']:.0f} / {ns['lattice']:.0f} ns)"
        )
        # a speed-up may carry a mark and a note after it (a loaded machine)
        assert cells[4].split()[0] == f"{s['parallel_speedup_2_threads']:.2f}"
        assert cells[5] == f"{s['state_bytes_per_agent']:.1f}"
        assert cells[6] == f"{s['peak_rss_growth_bytes_per_agent']:.0f}"
        if "peak_rss_slope_bytes_per_agent" in s:  # the slope between two scales
            assert cells[7] == f"{s['peak_rss_slope_bytes_per_agent']:.0f}"
    mesa = [
        json.loads(p.read_text())["summary"]
        for p in sorted((ROOT / "benchmarks" / "results" / "country").glob("country-*.json"))
        if "mesa_bytes_per_agent" in json.loads(p.read_text())["summary"]
    ][-1]
    assert f"{mesa['mesa_bytes_per_agent']:,.0f} B per agent" in text
    assert f"about {mesa['mesa_gib_for_19M_agents']:.0f} GiB" in text
    long = json.loads(
        sorted((ROOT / "benchmarks" / "results" / "country").glob("country-long-*.json"))[
            -1
        ].read_text()
    )["summary"]
    assert f"in {long['wall_s']:.0f} s of wall time" in text
    assert f"({long['wall_s_per_tick']:.2f} s a tick), peak RSS" in text
    assert f"{long['peak_rss_bytes'] / 2**30:.2f} GiB" in text
