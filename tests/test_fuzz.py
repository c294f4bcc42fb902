"""Fuzzing the two doors a user's mistakes come through: scenario files and the
command line's options (Hypothesis).

* Scenarios: 1,000 generated documents — every table and key of the registry and
  timeline entries, given values of every TOML type (most of them wrong), plus
  unknown tables and keys, plus raw text that may not be TOML at all. Loading must
  give a Scenario or a :class:`ScenarioError` that names the file and the key it
  is about; anything else (a KeyError, a TypeError from deep inside) is a bug.
* The command line: 1,000 generated argument lists for every command, each with at
  least one mistake that is checked before any simulation runs. The command must
  exit with status 2 and print one line, ``error: …``, naming one of the options,
  keys, files or values it was given — never a traceback.

Both run in-process (the CLI through typer's CliRunner), a few seconds each; a ten
times larger variant is marked slow.
"""

from __future__ import annotations

import atexit
import datetime
import os
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from upheaval.cli import app
from upheaval.model.mechanisms import action_specs
from upheaval.model.params import SECTIONS, by_location
from upheaval.scenario.loading import ScenarioError, load_file, scenario_from_dict

LOCATIONS = sorted(by_location())
ACTIONS = tuple(action_specs())
ACTION_KEYS = {a: (tuple(s.required), tuple(s.optional)) for a, s in action_specs().items()}
KEYS_OF = {s: [k for (sec, k) in LOCATIONS if sec == s] for s in SECTIONS}
TIMELINE_KEYS = sorted(
    {"tick", "time", "set", "ramp", "action", "start", "end", "start_time", "end_time"}
    | {k for req, opt in ACTION_KEYS.values() for k in (*req, *opt)}
)
JUNK = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.", min_size=1, max_size=12)

# Values of every TOML type (no null: TOML has none), biased to edges.
scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, -1, 2, 100, 10**9, 2**31]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 0.5, 1.0, 1.5, -0.1, float("inf"), float("nan")]),
    st.booleans(),
    st.text(max_size=10),
    st.sampled_from(["floor", "literal", "exact", "I", "II", "patrol", "all", "2022-01-05"]),
    st.datetimes(min_value=datetime.datetime(1900, 1, 1)),
    st.dates(),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=5),
    st.dictionaries(JUNK, scalars, max_size=3),
)


@st.composite
def timeline_entry(draw):
    keys = draw(st.lists(st.sampled_from(TIMELINE_KEYS) | JUNK, max_size=5, unique=True))
    entry = {k: draw(values) for k in keys}
    if draw(st.booleans()):
        entry["action"] = draw(st.sampled_from(ACTIONS) | st.text(max_size=8))
    if draw(st.booleans()):
        param = draw(st.sampled_from([k for _, k in LOCATIONS]) | JUNK)
        entry[draw(st.sampled_from(["set", "ramp"]))] = {param: draw(values)}
    return entry


@st.composite
def scenario_document(draw):
    doc: dict = {}
    for section in draw(st.lists(st.sampled_from(SECTIONS) | JUNK, max_size=4, unique=True)):
        if draw(st.integers(0, 9)) == 0:
            doc[section] = draw(values)  # a table that is not a table
            continue
        known = KEYS_OF.get(section, [])
        keys = draw(st.lists(st.sampled_from(known) | JUNK if known else JUNK, max_size=4))
        doc[section] = {k: draw(values) for k in keys}
    if draw(st.booleans()):
        doc["scenario"] = draw(
            st.dictionaries(
                st.sampled_from(["name", "description", "extends"]) | JUNK,
                st.sampled_from(["epstein2002-run2", "nosuch", "kz2022-almaty"]) | values,
                max_size=3,
            )
        )
    if draw(st.booleans()):
        doc["timeline"] = draw(st.lists(timeline_entry(), max_size=3) | values)
    return doc


def _check_scenario_error(e: ScenarioError, where: str, doc: dict | None) -> None:
    assert str(e).startswith(f"{where}:"), str(e)
    assert e.reason, str(e)
    whole_document = ("not valid TOML", "expected a TOML document", "no such file")
    if not e.key:
        assert any(w in e.reason for w in whole_document), str(e)
        return
    head = re.split(r"[.\[]", e.key)[0]
    # the key is one the document has, or (a check across parameters) a registry one
    given = doc is not None and (e.key in doc or head in doc)
    assert given or head in SECTIONS or head == "timeline", str(e)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=scenario_document())
def test_scenario_loader_names_the_file_and_key(doc):
    where = "fuzz.toml"
    try:
        scenario_from_dict(doc, where)
    except ScenarioError as e:
        _check_scenario_error(e, where, doc)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200) | st.binary(max_size=200))
def test_scenario_files_that_are_not_toml(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bad.toml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        try:
            load_file(path)
        except ScenarioError as e:
            if e.key:
                # text that is TOML after all ("0=0") names its own keys
                try:
                    raw = text if isinstance(text, str) else text.decode("utf-8")
                    doc = tomllib.loads(raw)
                except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                    doc = None
                _check_scenario_error(e, str(path), doc)
            else:
                assert str(e).startswith(f"{path}:") and e.reason, str(e)


# -- the command line -------------------------------------------------------------------

RUNNER = CliRunner()
NUMBERS = st.sampled_from(["-1", "0", "abc", "1.5", "", "1e9", "-0", "nan", "inf", "99999999999"])
SET_VALUES = st.sampled_from(["1", "-1", "0.5", "abc", "true", "[1]", "", "inf", "1e400", "'x'"])


@st.composite
def set_option(draw):
    key = draw(st.sampled_from([f"{s}.{k}" for s, k in LOCATIONS] + [k for _, k in LOCATIONS]))
    return ["--set", f"{key}={draw(SET_VALUES)}"]


def poison(tmp: Path):
    """A mistake every command checks before running anything, and that no later
    argument can undo (a repeated --set is an error itself; a repeated --steps is not,
    the last one counts, so no poison is a single-valued option)."""
    return st.sampled_from(
        [
            ["--set", "no_such_parameter=1"],
            ["--set", "legitimacy=2"],
            ["--set", "width"],
            ["--set", "citizens.vision=-1"],
            ["--bogus-option"],
        ]
    )


COMMON = {
    "--steps": NUMBERS,
    "--seed": NUMBERS,
    "--workers": NUMBERS,
    "--replicates": NUMBERS,
    "--threshold": NUMBERS,
}
OPTIONS = {
    "run": {"--steps": NUMBERS, "--seed": NUMBERS, "--flush-every": NUMBERS,
            "--snapshot-every": NUMBERS,
            "--snapshots": st.sampled_from(["1,x", "-1", "10,,2", "5"])},
    "sweep": {**COMMON, "--design": st.sampled_from(["grid", "lhs", "sobol", "x", "matrix"]),
              "--param": st.sampled_from(["legitimacy=0.9:0.1", "x=1:2", "legitimacy", "width=a:b",
                                          "ratio_rule=floor,floor", "legitimacy=0.5:0.8"]),
              "--samples": NUMBERS, "--batch-size": NUMBERS, "--levels": NUMBERS,
              "--design-seed": NUMBERS},
    "calibrate": {**COMMON, "--param": st.sampled_from(["legitimacy=0.9:0.1", "nope=0:1",
                                                        "legitimacy=0.5:0.8"]),
                  "--particles": NUMBERS, "--generations": NUMBERS, "--quantile": NUMBERS,
                  "--stat": st.sampled_from(["peak_active", "nonsense"]),
                  "--tick-days": NUMBERS, "--max-rounds": NUMBERS},
    "compare": {**COMMON, "--what-if": st.sampled_from(["no-intervention", "x:legitimacy=0.7",
                                                        "bad name:x=1", "lethal:", "nosuch"]),
                "--hold-share": NUMBERS, "--resamples": NUMBERS},
}  # fmt: skip
SCENARIOS = st.sampled_from(["epstein2002-run2", "kz2022-almaty", "nosuch", "missing.toml", ""])


@st.composite
def argument_list(draw, tmp: Path):
    command = draw(st.sampled_from(["run", "sweep", "calibrate", "compare", "query", "show",
                                    "sensitivity"]))  # fmt: skip
    missing = str(tmp / "no" / "such" / "dir")
    if command in ("query", "show", "sensitivity"):
        args = [command, draw(st.sampled_from([missing, str(tmp / "junk.txt"), ""]))]
        if command == "query":
            args.append(draw(st.sampled_from(["SELECT 1", "COPY x TO 'y'", "", "SELEC"])))
            if draw(st.booleans()):
                args += ["--limit", draw(NUMBERS)]
            if draw(st.booleans()):
                args += ["-f", draw(st.sampled_from(["json", "xml", ""]))]
        if command == "sensitivity" and draw(st.booleans()):
            args += ["--output", draw(st.sampled_from(["peak_active", "nope"]))]
        if command == "show" and draw(st.booleans()):
            args += ["--threshold", draw(NUMBERS)]
        return args
    args = [command, draw(SCENARIOS)]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 2))
        if kind == 0:
            args += draw(set_option())
        else:
            option = draw(st.sampled_from(sorted(OPTIONS[command])))
            args += [option, draw(OPTIONS[command][option])]
    if command == "calibrate":
        args += ["--observed", draw(st.sampled_from([missing, str(tmp / "junk.txt")]))]
        if "--param" not in args:
            args += ["--param", "legitimacy=0.5:0.8"]
    if command == "compare" and "--what-if" not in args:
        args += ["--what-if", "x:legitimacy=0.7"]
    if command != "run":
        args += ["--out", str(tmp / "out")]
    else:
        args += ["--out", str(tmp / "out"), "--no-progress"]
    args += draw(poison(tmp))
    # the mistake may come anywhere, not only last
    return (
        draw(st.permutations(args[1:]).map(lambda rest: [command, *rest]))
        if draw(st.integers(0, 4)) == 0
        else args
    )


def _named(line: str, args: list[str]) -> bool:
    """Whether the error line names something the user gave."""
    tokens = set()
    for a in args:
        if not a:
            tokens.add("''")  # an empty argument, named as such
            tokens.add("error: .:")  # or, as a path, the directory it means: "."
            continue
        tokens.add(a)
        tokens.update(p for p in re.split(r"[=:,]", a) if len(p) > 1)
        if a.startswith("--"):
            tokens.add(a.split("=")[0])
    for s, k in LOCATIONS:  # a key given bare is named by its section.key
        if any(k == t for t in tokens):
            tokens.add(f"{s}.{k}")
    return any(t in line for t in tokens if len(t) > 1) or "Missing argument" in line


def _check_cli(args: list[str], tmp: Path) -> None:
    cwd = os.getcwd()
    os.chdir(tmp)  # nothing a mistake may write lands in the checkout
    try:
        r = RUNNER.invoke(app, args)
    finally:
        os.chdir(cwd)
    assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.exception)
    assert r.exit_code == 2, (args, r.exit_code, r.output)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, (args, r.stderr)
    assert lines[0].startswith("error: "), (args, lines[0])
    assert "Traceback" not in r.output, (args, r.output)
    assert _named(lines[0], args), (args, lines[0])
    assert not (tmp / "out").exists() or not any((tmp / "out").iterdir()), args


# One directory for every example (Hypothesis runs examples in one test call, so a
# pytest tmp_path fixture would be shared anyway), removed when the session ends.
_WORKSPACE = Path(tempfile.mkdtemp(prefix="upheaval-fuzz-"))
(_WORKSPACE / "junk.txt").write_text("not results\n")
atexit.register(shutil.rmtree, _WORKSPACE, True)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=argument_list(_WORKSPACE))
def test_every_cli_mistake_is_one_line_naming_it(args):
    _check_cli(args, _WORKSPACE)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=argument_list(_WORKSPACE))
def test_every_cli_mistake_is_one_line_naming_it_many(args):
    _check_cli(args, _WORKSPACE)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=scenario_document())
def test_scenario_loader_names_the_file_and_key_many(doc):
    try:
        scenario_from_dict(doc, "fuzz.toml")
    except ScenarioError as e:
        _check_scenario_error(e, "fuzz.toml", doc)
