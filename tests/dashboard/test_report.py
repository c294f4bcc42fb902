"""``upheaval report DIR``: one self-contained HTML file per kind of result directory,
opened in headless Chromium with the network off."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from upheaval.cli import app
from upheaval.results import read_snapshots
from upheaval.views.report import ReportError, write_report

#: What each kind's report must show (headings, and a value from its data).
EXPECTED = {
    "run": ["Time series", "Outbursts", "Lattice snapshots", "Timeline"],
    "sweep": ["Outcomes over the parameters", "Sensitivity indices", "legitimacy", "ST"],
    "calibration": ["Generations", "Posterior", "Predictive check", "peak_active"],
    "comparison": ["Effects against the baseline", "weak", "regime_holds"],
}


def _dir(results, kind):
    return {
        "run": results.run,
        "sweep": results.sweep,
        "calibration": results.calibration,
        "comparison": results.comparison,
    }[kind]


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_report_is_one_self_contained_file(results, tmp_path, kind):
    path = write_report(_dir(results, kind), tmp_path / f"{kind}.html")
    text = path.read_text("utf-8")
    for needle in EXPECTED[kind]:
        assert needle in text, needle
    assert "<script" not in text and "<link" not in text
    # every resource is inline: no URL but data: URIs
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", text)
    assert refs and all(r.startswith("data:image/png;base64,") for r in refs), refs
    assert not re.search(r"url\(", text)
    if kind == "run":
        n_snaps = len(read_snapshots(results.run))
        assert text.count('alt="lattice at tick') == n_snaps == 4


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_report_opens_offline_in_a_browser_and_prints(browser, results, tmp_path, kind):
    from .conftest import ARTIFACTS

    path = write_report(_dir(results, kind), tmp_path / f"{kind}.html")
    context = browser.new_context(offline=True, viewport={"width": 1100, "height": 1400})
    requested: list[str] = []
    context.on("request", lambda r: requested.append(r.url))
    page = context.new_page()
    page.goto(path.as_uri())
    images = page.evaluate(
        "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])"
    )
    assert images and all(done and width > 0 for done, width, _ in images), images
    assert requested == [path.as_uri()], "the report fetched nothing but itself"
    assert page.locator("h1").count() == 1 and page.locator("h2").count() >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"report-{kind}.png"), full_page=True)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    context.close()


def test_report_command_writes_beside_the_directory(results, tmp_path):
    import shutil

    run = tmp_path / "myrun"
    shutil.copytree(results.run, run)
    r = CliRunner().invoke(app, ["report", str(run)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "myrun.html").is_file()
    assert sorted(p.name for p in run.iterdir()) == sorted(p.name for p in results.run.iterdir()), (
        "nothing written into the run directory"
    )


def test_report_refuses_what_is_not_a_result_directory(tmp_path):
    r = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        f"error: {tmp_path}: not a run, sweep, calibration or comparison directory "
        "(no upheaval marker file)"
    )
    with pytest.raises(ReportError, match="no such directory"):
        write_report(tmp_path / "missing")


def test_dashboard_doc_names_only_tests_that_exist():
    """docs/dashboard.md backs what it says with tests: each one it names exists."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    text = (root / "docs" / "dashboard.md").read_text("utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", text)
    assert len(named) >= 15
    for path, name in named:
        source = (root / path).read_text("utf-8")
        assert re.search(rf"^def {name}\(", source, re.M), f"{path}::{name} does not exist"
    for img in re.findall(r"\]\((img/[\w-]+\.png)\)", text):
        assert (root / "docs" / img).is_file(), img
