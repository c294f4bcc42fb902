"""The command line: ``upheaval run``, ``upheaval presets``, ``upheaval show``.

A thin layer over :func:`upheaval.run`, :mod:`upheaval.results` and
:mod:`upheaval.views`. A user's mistake (a bad scenario file, an unknown preset, a bad
``--set``, a missing run directory) prints one line naming the file, key and reason
to stderr and exits with status 2; Ctrl-C during a run exits 130 (SIGTERM 143) with
every finished tick on disk.
"""

from __future__ import annotations

import re
import signal
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from upheaval._version import __version__
from upheaval.cli_errors import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    OneLineErrors,
    Terminated,
    raise_terminated,
    warn,
)
from upheaval.cli_errors import fail as _fail
from upheaval.model.params import ParameterError, check_value, parameter
from upheaval.results.recorder import DEFAULT_FLUSH_EVERY, RunDirectoryError
from upheaval.scenario.loading import (
    ScenarioError,
    apply_overrides,
    load,
    load_preset,
    preset_names,
)

app = typer.Typer(
    name="upheaval",
    help="Agent-based simulation of civil unrest (Epstein's civil-violence model).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    cls=OneLineErrors,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"upheaval {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    pass


def _checked(flag: str, location: str, value: Any) -> Any:
    """Check a command-line value against the parameter registry."""
    try:
        return check_value(parameter(location), value)
    except ParameterError as e:
        raise ScenarioError(flag, location, e.reason) from None


def _snapshot_ticks(every: int | None, listed: str | None, steps: int) -> tuple[int, ...]:
    if every is not None and listed is not None:
        raise ScenarioError("--snapshots", "", "give --snapshot-every or --snapshots, not both")
    if every is not None:
        if every < 1:
            raise ScenarioError("--snapshot-every", "", f"must be ≥ 1, got {every}")
        return tuple(range(0, steps + 1, every))
    if listed is None:
        return ()
    ticks = []
    for part in listed.split(","):
        part = part.strip()
        if not re.fullmatch(r"\d+", part):
            raise ScenarioError(
                "--snapshots", "", f"expected comma-separated ticks like 10,50,100, got {part!r}"
            )
        t = int(part)
        if t > steps:
            raise ScenarioError("--snapshots", "", f"tick {t} is after the last tick {steps}")
        ticks.append(t)
    return tuple(sorted(set(ticks)))


def _default_out(name: str, seed: int) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "run"
    return Path("runs") / f"{safe}-seed{seed}"


@app.command()
def run(
    scenario: Annotated[
        str,
        typer.Argument(
            metavar="PRESET|FILE.toml",
            help="A preset name (see `upheaval presets`) or a scenario .toml file.",
        ),
    ],
    steps: Annotated[
        int | None,
        typer.Option("--steps", "-n", help="Ticks to run (default: the scenario's run.steps)."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", "-s", help="Root seed (default: the scenario's run.seed)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Override a parameter, e.g. --set legitimacy=0.8 --set jail.max_jail_term=40.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Run directory (default: runs/SCENARIO-seedSEED)."),
    ] = None,
    snapshot_every: Annotated[
        int | None,
        typer.Option("--snapshot-every", metavar="K", help="Snapshot the lattice every K ticks."),
    ] = None,
    snapshots: Annotated[
        str | None,
        typer.Option("--snapshots", metavar="T1,T2,...", help="Snapshot the lattice at ticks."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a previous run in the directory.")
    ] = False,
    flush_every: Annotated[
        int,
        typer.Option(
            "--flush-every",
            metavar="N",
            help="Ticks per flush to disk (a kill -9 loses at most the last N - 1).",
        ),
    ] = DEFAULT_FLUSH_EVERY,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    figure: Annotated[bool, typer.Option(help="Draw timeseries.png.")] = True,
) -> None:
    """Run a scenario; write ticks.parquet, manifest.json and timeseries.png."""
    from upheaval.results.runner import run as run_scenario

    try:
        sc = load(scenario)
        if set_:
            sc = apply_overrides(sc, list(set_))
        seed = sc.params.run.seed if seed is None else _checked("--seed", "run.seed", seed)
        steps = sc.params.run.steps if steps is None else _checked("--steps", "run.steps", steps)
        if flush_every < 1:
            raise ScenarioError("--flush-every", "", f"must be ≥ 1, got {flush_every}")
        snap = _snapshot_ticks(snapshot_every, snapshots, steps)
        out = _default_out(sc.name, seed) if out is None else out
    except ScenarioError as e:
        _fail(e)

    from upheaval.results.runner import TimelineWarning, late_timeline

    for message in late_timeline(sc, steps):
        warn(message)
    previous_term = signal.signal(signal.SIGTERM, raise_terminated)
    code = 0
    try:
        with warnings.catch_warnings():
            # printed above, one line each, instead of Python's two-line warnings
            warnings.simplefilter("ignore", TimelineWarning)
            run_scenario(
                sc,
                steps=steps,
                seed=seed,
                out=out,
                snapshots=snap,
                progress=progress,
                overwrite=force,
                flush_every=flush_every,
            )
    except (ScenarioError, RunDirectoryError) as e:
        _fail(e)
    except KeyboardInterrupt as e:
        code = EXIT_TERMINATED if isinstance(e, Terminated) else EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous_term)

    from upheaval.results.recorder import read_manifest

    try:
        manifest = read_manifest(out)
    except RunDirectoryError:
        # Interrupted before the recorder had created the run directory.
        typer.echo("interrupted before the first tick; nothing written", err=True)
        raise typer.Exit(code or EXIT_INTERRUPTED) from None
    if figure:
        from upheaval.views.figures import save_run_figure

        save_run_figure(out)
        country = manifest.get("country")
        # a country of one place (kz2022-almaty) records one row a tick, without
        # places to map
        if country and len(country["places"]) > 1 and manifest["ticks"]["count"]:
            from upheaval.views.maps import save_map

            save_map(out)
    ticks = manifest["ticks"]
    if code:
        typer.echo(
            f"interrupted at tick {manifest['last_tick']}; {ticks['count']} ticks written to {out}",
            err=True,
        )
        raise typer.Exit(code)
    typer.echo(f"wrote {out}: {ticks['count']} ticks ({ticks['first']}…{ticks['last']})")


@app.command("map")
def map_(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A country's run directory.")],
    tick: Annotated[
        int | None, typer.Option(help="The tick to draw (default: the national peak).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where to write the PNG (default RUN_DIR/map.png).")
    ] = None,
    animate: Annotated[
        Path | None, typer.Option(help="Also write an animated GIF of the run here.")
    ] = None,
    every: Annotated[int, typer.Option(min=1, help="Ticks between the GIF's frames.")] = 1,
) -> None:
    """Draw a country's run as a map (places on the country's outline), or animate it."""
    from upheaval.views.maps import save_animation, save_map

    for target in (out, animate):
        if target is not None and target.exists():
            _fail(RunDirectoryError(target, "exists; not overwritten (give another --out)"))
    try:
        typer.echo(f"wrote {save_map(run_dir, tick, out)}")
        if animate is not None:
            typer.echo(f"wrote {save_animation(run_dir, animate, every)}")
    except RunDirectoryError as e:
        _fail(e)
    except ValueError as e:
        _fail(RunDirectoryError(run_dir, str(e)))


@app.command()
def presets() -> None:
    """List the scenarios shipped with the package."""
    names = preset_names()
    width = max(len(n) for n in names)
    for name in names:
        typer.echo(f"{name:<{width}}  {load_preset(name).description}")


def _fmt(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "–"
    return f"{x:,}" if isinstance(x, int) else f"{x:,.{digits}f}"


def _status_line(m: dict[str, Any], rows: int) -> str:
    if m["status"] == "complete":
        return "complete"
    if m["status"] == "running":
        # Never closed: still going, or killed outright (its parts are read as they are).
        return f"running or killed (not closed); {rows} ticks on disk"
    return f"{m['status']} ({m['reason']}) at tick {m['last_tick']}"


@app.command()
def show(
    run_dir: Annotated[
        Path, typer.Argument(metavar="RUN_DIR", help="A run directory written by `upheaval run`.")
    ],
    threshold: Annotated[
        int, typer.Option(help="Actives above which an outburst begins (model-spec §3).")
    ] = 50,
    onset_share: Annotated[
        float,
        typer.Option(
            min=0.0001,
            max=1.0,
            help="In a country: the share of a place's citizens active at its onset.",
        ),
    ] = 0.02,
    lost_below: Annotated[
        float,
        typer.Option(
            min=0.0001,
            max=1.0,
            help="Key sites: the control below which a place is lost (docs/odd.md §12.4).",
        ),
    ] = 0.5,
) -> None:
    """Summarise a run: scenario, seed, ticks, final counts, peak actives, outbursts;
    in a country, the nation as a whole and then each place."""
    import numpy as np
    import pyarrow.compute as pc

    from upheaval.model.ticks import FLOAT_COLUMNS, PLACE, national
    from upheaval.results.outbursts import run_outbursts
    from upheaval.results.places import place_summaries
    from upheaval.results.recorder import read_run

    try:
        m, table = read_run(run_dir)
    except RunDirectoryError as e:
        _fail(e)
    if table.num_rows == 0:
        _fail(RunDirectoryError(run_dir, "the run has no ticks on disk"))
    with_sites = "sites_declared" in table.column_names and bool(
        pc.max(table.column("sites_declared")).as_py()
    )
    places = place_summaries(table, onset_share, lost_below) if PLACE in table.column_names else []
    # one lattice has no places' table, but its sites get their block too
    summaries = (places or place_summaries(table, onset_share, lost_below)) if with_sites else []
    if places:
        table = national(table)

    def col(name: str) -> np.ndarray:
        return table.column(name).to_numpy()

    sc = m["scenario"]
    last = {
        c: int(table.column(c)[-1].as_py()) for c in table.column_names if c not in FLOAT_COLUMNS
    }
    active = col("active_blue") + col("active_green")
    peak_at = int(np.argmax(active))
    lines = [
        f"run          {run_dir}",
        f"scenario     {sc['name']} ({sc['source']}): {sc['description']}",
        f"model        {m['variant']}",
        f"seed         {m['seed']}",
        f"status       {_status_line(m, table.num_rows)}",
        f"ticks        {int(col('tick')[0])} … {int(col('tick')[-1])} ({table.num_rows} rows)",
    ]
    if m["variant"] == "II":
        for g in ("blue", "green"):
            killed = int(col(f"killed_{g}").sum())
            lines.append(
                f"final {g:<6} quiet {last[f'quiet_{g}']}, active {last[f'active_{g}']}, "
                f"jailed {last[f'jailed_{g}']}; killed in all {killed}"
            )
        lines.append(f"final cops   {last['cops']}")
    else:
        q = last["quiet_blue"] + last["quiet_green"]
        a = last["active_blue"] + last["active_green"]
        j = last["jailed_blue"] + last["jailed_green"]
        lines.append(f"final        quiet {q}, active {a}, jailed {j}, cops {last['cops']}")
    lines.append(f"peak active  {int(active[peak_at])} at tick {int(col('tick')[peak_at])}")
    s = run_outbursts(table, threshold).summary()
    lines += [
        f"outbursts    {s['outbursts']} ({s['complete_outbursts']} complete) above "
        f"{threshold} actives; first at tick {_fmt(s['first_start'])}",
        f"  peak       max {_fmt(s['peak_max'])}, mean {_fmt(s['peak_mean'])}",
        f"  duration   mean {_fmt(s['duration_mean'])}, s.d. {_fmt(s['duration_sd'])} ticks",
        f"  activation mean {_fmt(s['total_activation_mean'])}, "
        f"s.d. {_fmt(s['total_activation_sd'])} (actives summed over an outburst)",
        f"  waiting    mean {_fmt(s['waiting_time_mean'])}, "
        f"s.d. {_fmt(s['waiting_time_sd'])} ticks",
    ]
    speed = m.get("agent_steps_per_second")
    per_agent = m.get("state_bytes_per_agent")
    lines.append(
        f"speed        {_fmt(speed, 0)} agent-steps/s; {_fmt(per_agent)} state bytes per agent"
    )
    if places:
        lines += _places_table(places, onset_share)
        lines += _travellers_table(places)
    lines += _units_table(run_dir)
    if summaries:
        lines += _sites_table(
            summaries, lost_below, m.get("parameters", {}).get("run.tick_minutes", 0)
        )
    typer.echo("\n".join(lines))


def _sites_table(places: list, lost_below: float, tick_minutes: float) -> list[str]:
    """`show`'s key sites: how many places the regime lost, for how long, and each
    place's sites (docs/odd.md §12.4)."""
    width = max(len("place"), *(len(s.place) for s in places))
    lost = [s for s in places if s.ticks_lost > 0]
    hours = (
        f" = {max(s.ticks_lost for s in lost) * tick_minutes / 60:g} h"
        if lost and tick_minutes
        else ""
    )
    longest = (
        f"; longest {max(s.ticks_lost for s in lost)} ticks{hours} "
        f"({max(lost, key=lambda s: s.ticks_lost).place or 'the lattice'})"
        if lost
        else ""
    )
    lines = [
        "",
        f"control      {len(lost)} of {len(places)} places lost "
        f"(control < {lost_below:g}) at some tick{longest}",
        f"{'place':<{width}}  {'sites':>5}  {'held':>5}  {'seized':>6}  {'burned':>6}  "
        f"{'min ctl':>7}  {'final':>6}  {'lost':>5}",
    ]
    for s in places:
        lines.append(
            f"{s.place or '-':<{width}}  {s.sites:>5}  {s.peak_sites_held:>5}  "
            f"{s.sites_seized:>6}  {s.sites_burned:>6}  {s.min_control:>7.3f}  "
            f"{s.final_control:>6.3f}  {s.ticks_lost:>5}"
        )
    return lines


def _places_table(places: list, onset_share: float) -> list[str]:
    """`show`'s per-place lines: one a place, in the order of the places table."""
    width = max(len("place"), *(len(s.place) for s in places))
    head = (
        f"{'place':<{width}}  {'citizens':>9}  {'onset':>6}  {'peak':>7}  {'at':>5}  "
        f"{'share':>6}  {'arrests':>8}  {'killed':>6}  {'jailed':>7}  {'cops':>6}"
    )
    reached = sum(s.onset_tick is not None for s in places)
    lines = [
        "",
        f"places       {len(places)}; {reached} reached an onset "
        f"(≥ {onset_share:.1%} of citizens active)",
        head,
    ]
    for s in places:
        onset = "-" if s.onset_tick is None else str(s.onset_tick)
        lines.append(
            f"{s.place:<{width}}  {s.citizens:>9}  {onset:>6}  {s.peak_active:>7}  "
            f"{s.peak_tick:>5}  {s.peak_share:>6.1%}  {s.arrests:>8}  "
            f"{s.killed_by_cops:>6}  {s.final_jailed:>7}  {s.final_cops:>6}"
        )
    return lines


def _travellers_table(places: list) -> list[str]:
    """`show`'s activists who travel (docs/odd.md §12.5), when any left a place."""
    if not any(s.travellers_left for s in places):
        return []
    width = max(len("place"), *(len(s.place) for s in places))
    left = sum(s.travellers_left for s in places)
    arrived = sum(s.travellers_arrived for s in places)
    on_way = sum(s.final_travellers_in_transit for s in places)
    lines = [
        "",
        f"travellers   {left} left a place, {arrived} arrived, {on_way} on their way at the end",
        f"{'place':<{width}}  {'left':>7}  {'arrived':>7}  {'coming':>7}",
    ]
    for s in places:
        lines.append(
            f"{s.place:<{width}}  {s.travellers_left:>7}  {s.travellers_arrived:>7}  "
            f"{s.final_travellers_in_transit:>7}"
        )
    return lines


def _units_table(run_dir: Path) -> list[str]:
    """`show`'s named units (docs/odd.md §12.2, outputs), when the run recorded the
    forces by unit (``units.parquet``) and a named unit ever had members: one line
    a place and unit — its members there at the end (on duty, on guard, on their
    way to it) and the most it had there at once."""
    from upheaval.results.places import unit_summaries
    from upheaval.results.recorder import read_run

    units = unit_summaries(read_run(run_dir, "units")[1])
    if not units:
        return []
    width = max(len("place"), *(len(u.place or "-") for u in units))
    uwidth = max(len("unit"), *(len(u.unit) for u in units))
    totals: dict[str, list[int]] = {}
    for u in units:
        t = totals.setdefault(u.unit, [0, 0, 0])
        t[0] += u.final_on_duty
        t[1] += u.final_on_guard
        t[2] += u.final_in_transit
    at_end = "; ".join(
        f"{name} {d} on duty, {g} on guard, {m} on the way" for name, (d, g, m) in totals.items()
    )
    lines = [
        "",
        f"units        at the end: {at_end}",
        f"{'place':<{width}}  {'unit':<{uwidth}}  {'on duty':>7}  {'on guard':>8}  "
        f"{'coming':>6}  {'peak':>5}  {'at':>5}",
    ]
    for u in units:
        lines.append(
            f"{u.place or '-':<{width}}  {u.unit:<{uwidth}}  {u.final_on_duty:>7}  "
            f"{u.final_on_guard:>8}  {u.final_in_transit:>6}  {u.peak:>5}  {u.peak_tick:>5}"
        )
    return lines


# -- experiments: sweep, query, sensitivity (implemented in upheaval.experiments.cli) -----
from upheaval.experiments.cli import register as _register_experiments  # noqa: E402

_register_experiments(app)

# -- views: serve (the live dashboard), report (implemented in upheaval.views.commands) --
from upheaval.views.commands import register as _register_views  # noqa: E402

_register_views(app)


if __name__ == "__main__":
    app()
