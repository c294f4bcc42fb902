"""Command-line commands for experiments: ``upheaval sweep``, ``query``, ``sensitivity``,
``calibrate`` and ``compare``.

Registered on the main app by :mod:`upheaval.cli` (see :func:`register`). Errors a
user can fix print one line and exit 2; Ctrl-C exits 130 with every finished run
on disk (run the same command again to resume).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer

from upheaval.cli_errors import fail as _fail
from upheaval.cli_errors import (
    interrupted_exit,
    sigterm_as_interrupt,
    warn,
)

# Options several commands share, declared once.
StepsOption = Annotated[
    int | None, typer.Option("--steps", "-n", help="Ticks per run (default: scenario's).")
]
SeedOption = Annotated[
    int | None, typer.Option("--seed", "-s", help="Root seed (default: scenario's run.seed).")
]
WorkersOption = Annotated[
    int | None, typer.Option("--workers", "-w", help="Local worker processes (all cores).")
]
DaskOption = Annotated[
    str | None,
    typer.Option("--dask", metavar="ADDRESS", help="Run on a Dask scheduler ('local': start one)."),
]
RayOption = Annotated[
    str | None,
    typer.Option("--ray", metavar="ADDRESS", help="Run on a Ray cluster ('local': start one)."),
]


def _check_backend(workers: int | None, dask: str | None, ray: str | None) -> None:
    """At most one of --workers/--dask/--ray, and a positive worker count."""
    from upheaval.experiments.designs import DesignError

    if sum(x is not None for x in (workers, dask, ray)) > 1:
        raise DesignError("--workers/--dask/--ray", "give at most one of them")
    if workers is not None and workers < 1:
        raise DesignError("--workers", f"must be ≥ 1, got {workers}")


def _given_once(set_: list[str] | None, names: tuple[str, ...], varied_by: str) -> None:
    """Refuse a --set of a parameter that the design varies too: which value would a
    run get? (The design's, silently, before this check.)"""
    from upheaval.experiments.designs import DesignError
    from upheaval.scenario.loading import parse_override, resolve_key

    for text in set_ or []:
        key, _ = parse_override(text)
        if resolve_key(key, "--set").name in names:
            raise DesignError("--set", f"{key} is also varied by {varied_by}; give it once")


def _warn_late_timeline(sc: Any, steps: int | None) -> None:
    from upheaval.results.recorder import parameters_by_location
    from upheaval.results.runner import late_timeline

    last = steps if steps is not None else parameters_by_location(sc.params)["run.steps"]
    for message in late_timeline(sc, last):
        warn(message)


def _maybe(bar: Any) -> Any:
    return bar if bar is not None else contextlib.nullcontext()


def _backend(dask: str | None, ray: str | None) -> Any:
    """A context giving the executor --dask or --ray asks for, or None (local pool)."""
    import contextlib

    from upheaval.experiments.runner import dask_executor, ray_executor

    if dask is not None:
        return dask_executor(None if dask == "local" else dask)
    if ray is not None:
        return ray_executor(ray)
    return contextlib.nullcontext(None)


def sweep(
    scenario: Annotated[
        str,
        typer.Argument(metavar="PRESET|FILE.toml", help="A preset name or a scenario .toml file."),
    ],
    design: Annotated[
        str, typer.Option("--design", "-d", help="grid, lhs, sobol, morris or matrix.")
    ] = "grid",
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            metavar="KEY=LOW:HIGH|KEY=V1,V2",
            help="A varied parameter: a range (legitimacy=0.6:0.9) "
            "or a list (ratio_rule=floor,literal).",
        ),
    ] = None,
    samples: Annotated[
        int | None,
        typer.Option(
            "--samples",
            "-N",
            help="lhs: points; sobol: base sample N; morris: trajectories; "
            "grid: levels per range (5).",
        ),
    ] = None,
    matrix: Annotated[
        Path | None,
        typer.Option("--matrix", help="CSV or Parquet sample matrix (with --design matrix)."),
    ] = None,
    replicates: Annotated[int, typer.Option("--replicates", "-r", help="Runs per point.")] = 1,
    steps: StepsOption = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", "-s", help="Root seed of the sweep (default: scenario's run.seed)."),
    ] = None,
    design_seed: Annotated[
        int, typer.Option("--design-seed", help="Seed of the lhs/sobol/morris sampler.")
    ] = 0,
    levels: Annotated[int, typer.Option(help="Morris grid levels.")] = 4,
    second_order: Annotated[
        bool, typer.Option(help="Sobol: sample for second-order indices too.")
    ] = True,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Fix a parameter for every run."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Sweep directory.")] = Path("sweep"),
    workers: WorkersOption = None,
    dask: DaskOption = None,
    ray: RayOption = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", help="Runs per task (default: automatic).")
    ] = None,
    keep_ticks: Annotated[
        bool, typer.Option("--ticks", help="Keep every run's per-tick rows too.")
    ] = False,
    threshold: Annotated[int, typer.Option(help="Actives above which an outburst begins.")] = 50,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Run failed runs again on resume.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a previous sweep in --out.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Run a design of runs (resumable: run it again to finish an interrupted sweep)."""
    from upheaval.experiments.designs import DesignError, make_design, parse_factor
    from upheaval.experiments.runner import run_sweep
    from upheaval.experiments.store import StoreError
    from upheaval.scenario.loading import ScenarioError, apply_overrides, load

    try:
        sc = load(scenario)
        if set_:
            sc = apply_overrides(sc, list(set_))
        factors = [parse_factor(p) for p in (param or [])]
        d = make_design(
            design,
            factors,
            samples=samples,
            replicates=replicates,
            seed=design_seed,
            matrix=matrix,
            levels=levels,
            second_order=second_order,
        )
        if steps is not None and steps < 1:
            raise DesignError("--steps", f"must be ≥ 1, got {steps}")
        _check_backend(workers, dask, ray)
        _given_once(set_, d.names, "--param" if param else f"--matrix {matrix}")
    except (ScenarioError, DesignError) as e:
        _fail(e)
    _warn_late_timeline(sc, steps)

    from upheaval.views.progress import RunsProgress

    bar = RunsProgress("sweep") if progress else None
    try:
        with sigterm_as_interrupt(), _backend(dask, ray) as executor, _maybe(bar):
            report = run_sweep(
                sc,
                d,
                out,
                steps=steps,
                seed=seed,
                executor=executor,
                workers=workers,
                batch_size=batch_size,
                keep_ticks=keep_ticks,
                threshold=threshold,
                retry_failed=retry_failed,
                force=force,
                on_progress=bar.update if bar else None,
            )
    except (StoreError, ValueError, ImportError) as e:
        _fail(e)
    except KeyboardInterrupt as e:
        typer.echo(f"interrupted; finished runs are in {out} (run again to resume)", err=True)
        raise typer.Exit(interrupted_exit(e)) from None
    typer.echo(
        f"wrote {report.out}: {report.already + report.done}/{report.total} runs done "
        f"({report.done} now, {report.already} before), {report.failed} failed "
        f"in {report.seconds:.1f} s"
    )
    if report.failed:
        typer.echo(f'see the failures: upheaval query {out} "SELECT * FROM failed"', err=True)


def query(
    sweep_dir: Annotated[
        Path, typer.Argument(metavar="DIR", help="A sweep directory, or a run directory.")
    ],
    sql: Annotated[
        str,
        typer.Argument(
            metavar="SQL",
            help="DuckDB SQL over the views runs, ticks, design, status and failed "
            "(a run directory: ticks, snapshots, links, units). Read-only: only SELECT "
            "and EXPLAIN.",
        ),
    ],
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
    limit: Annotated[int, typer.Option(help="Most rows printed as a table.")] = 50,
) -> None:
    """Query a sweep or run in place with DuckDB, e.g. "SELECT avg(peak_active) FROM runs".

    The query reads only the results in DIR: it cannot read other files, write
    files, attach databases or load extensions, and every part is checked against
    the checksum the sweep logged when it was written."""
    from upheaval.experiments.store import (
        QueryError,
        StoreError,
        check_read_only,
        connect,
        explain_error,
    )
    from upheaval.results.recorder import RunDirectoryError

    if format not in ("table", "csv", "json"):
        _fail(f"--format: expected table, csv or json, got {format!r}")
    if limit < 1:
        _fail(f"--limit: must be ≥ 1, got {limit}")
    try:
        con = connect(sweep_dir)
    except (StoreError, RunDirectoryError) as e:
        _fail(e)
    import duckdb

    try:
        check_read_only(con, sql)
        try:
            # Printed inside the try: DuckDB runs a query lazily, when it is printed
            # or fetched, so that is where its errors come from.
            rel = con.sql(sql)
            if rel is None:
                return
            if format == "table":
                rel.show(max_rows=limit, max_width=10_000)
                return
            cols, rows = rel.columns, rel.fetchall()
        except duckdb.Error as e:
            raise explain_error(e, con) from None
    except QueryError as e:
        _fail(e)
    finally:
        con.close()
    import json

    if format == "csv":
        import csv
        import sys

        w = csv.writer(sys.stdout)
        w.writerow(cols)
        w.writerows(rows)
    else:
        for row in rows:
            typer.echo(json.dumps(dict(zip(cols, row, strict=True)), default=str))


def sensitivity(
    sweep_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A sobol or morris sweep.")],
    output: Annotated[
        list[str] | None,
        typer.Option("--output", "-y", help="Summary column(s) to analyse (default: peak_active)."),
    ] = None,
    conf_level: Annotated[float, typer.Option(help="Confidence level of the intervals.")] = 0.95,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 1000,
    figure: Annotated[bool, typer.Option(help="Draw sensitivity.png.")] = True,
) -> None:
    """Sobol' or Morris indices with confidence intervals; writes sensitivity.csv (+ .png)."""
    from upheaval.experiments.sensitivity import SensitivityError, analyse_sweep
    from upheaval.experiments.store import StoreError

    try:
        table = analyse_sweep(
            sweep_dir, output or ["peak_active"], conf_level=conf_level, resamples=resamples
        )
    except (StoreError, SensitivityError) as e:
        _fail(e)
    path = sweep_dir / "sensitivity.csv"
    table.to_csv(path, index=False)
    typer.echo(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if figure:
        from upheaval.views.sensitivity import save_sensitivity_figure

        save_sensitivity_figure(table, sweep_dir / "sensitivity.png")
    typer.echo(f"wrote {path}" + (f" and {sweep_dir / 'sensitivity.png'}" if figure else ""))


def calibrate(
    scenario: Annotated[
        str,
        typer.Argument(metavar="PRESET|FILE.toml", help="A preset name or a scenario .toml file."),
    ],
    observed: Annotated[
        Path,
        typer.Option(
            "--observed", help="A run directory (upheaval run) or an event CSV (date, event_type…)."
        ),
    ],
    param: Annotated[
        list[str],
        typer.Option("--param", "-p", metavar="KEY=LOW:HIGH", help="A uniform prior."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Calibration directory.")],
    particles: Annotated[int, typer.Option("--particles", help="Particles per generation.")] = 100,
    generations: Annotated[int, typer.Option("--generations", help="Generations.")] = 4,
    quantile: Annotated[
        float, typer.Option(help="Tolerance: this quantile of the previous distances.")
    ] = 0.5,
    stat: Annotated[
        list[str] | None,
        typer.Option("--stat", help="A summary statistic to compare (default: a documented set)."),
    ] = None,
    tick_days: Annotated[
        float, typer.Option("--tick-days", help="Days per tick (event CSV only).")
    ] = 1.0,
    steps: StepsOption = None,
    seed: SeedOption = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Fix a parameter for every run."),
    ] = None,
    workers: WorkersOption = None,
    dask: DaskOption = None,
    ray: RayOption = None,
    threshold: Annotated[int, typer.Option(help="Actives at which a tick counts as unrest.")] = 50,
    max_rounds: Annotated[
        int, typer.Option("--max-rounds", help="Most simulation rounds per generation.")
    ] = 20,
    force: Annotated[bool, typer.Option("--force", help="Replace a previous calibration.")] = False,
    figure: Annotated[bool, typer.Option(help="Draw posterior.png.")] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Calibrate parameters to observed data by ABC-SMC; writes posterior tables and a figure."""
    from upheaval.experiments.calibration import CalibrationError, write_result
    from upheaval.experiments.calibration import calibrate as run_abc
    from upheaval.experiments.designs import DesignError, parse_factor
    from upheaval.experiments.store import StoreError
    from upheaval.experiments.summary_stats import (
        ObservedError,
        load_observed,
        observed_mismatch,
    )
    from upheaval.scenario.loading import ScenarioError, apply_overrides, load

    try:
        sc = load(scenario)
        if set_:
            sc = apply_overrides(sc, list(set_))
        factors = [parse_factor(p) for p in param]
        _check_backend(workers, dask, ray)
        _given_once(set_, tuple(f.name for f in factors), "--param")
        obs = load_observed(observed, threshold, tick_days)
        if steps is not None and steps < 1:
            raise DesignError("--steps", f"must be ≥ 1, got {steps}")
    except (ScenarioError, DesignError, ObservedError) as e:
        _fail(e)
    if obs.notes:
        typer.echo(f"observed: {obs.notes}", err=True)
    for message in observed_mismatch(obs, sc, steps):
        warn(message)
    _warn_late_timeline(sc, steps)

    from upheaval.views.progress import RunsProgress

    bar = RunsProgress("calibrate") if progress else None

    def report(pop) -> None:
        if bar is not None:
            bar.close()  # the generation's line goes below its finished bars
        typer.echo(
            f"generation {pop.generation}: epsilon {pop.epsilon:.4g}, "
            f"{len(pop.weights)} accepted of {pop.simulations} runs, ESS {pop.ess:.1f}",
            err=True,
        )

    try:
        with sigterm_as_interrupt(), _backend(dask, ray) as executor, _maybe(bar):
            result = run_abc(
                sc,
                obs,
                factors,
                out,
                statistics=stat,
                particles=particles,
                generations=generations,
                quantile=quantile,
                steps=steps,
                seed=seed,
                executor=executor,
                workers=workers,
                threshold=threshold,
                max_rounds=max_rounds,
                force=force,
                on_generation=report,
                on_progress=bar.update if bar else None,
            )
    except (CalibrationError, StoreError, ValueError, ImportError) as e:
        _fail(e)
    except KeyboardInterrupt as e:
        typer.echo(f"interrupted; finished rounds are in {out} (run again to resume)", err=True)
        raise typer.Exit(interrupted_exit(e)) from None
    paths = write_result(result)
    typer.echo(result.summary_table().to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    if figure:
        from upheaval.views.calibration import save_posterior_figure

        save_posterior_figure(result, out / "posterior.png")
    typer.echo(
        f"wrote {paths['posterior']}, {paths['particles']}, {paths['generations']}"
        + (f" and {out / 'posterior.png'}" if figure else "")
    )


def compare(
    scenario: Annotated[
        str,
        typer.Argument(metavar="PRESET|FILE.toml", help="A preset name or a scenario .toml file."),
    ],
    what_if: Annotated[
        list[str],
        typer.Option(
            "--what-if",
            metavar="NAME[@WHEN]|NAME:KEY=VALUE,…",
            help="no-intervention, no-lethal-force, no-shutdown, no-provocateurs, "
            "early-concession[@WHEN], general-strike[@WHEN] (WHEN: a tick or "
            "2022-01-02T06:00Z), a built-in with :key=value,… first, or name:key=value,…",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Comparison directory.")],
    replicates: Annotated[
        int,
        typer.Option(
            "--replicates", "-r", help="Runs per variant (with --posterior: seeds per draw)."
        ),
    ] = 20,
    posterior: Annotated[
        Path | None,
        typer.Option(
            "--posterior",
            help="Parameter draws: a calibration's JSON (posterior.particles) or a CSV/Parquet "
            "of --set keys with an optional weight column; every replicate is (draw, seed).",
        ),
    ] = None,
    draws: Annotated[
        int | None,
        typer.Option(
            "--draws",
            help="Draws from --posterior, by weight, seeded by --seed (default: as many as "
            "its rows; an unweighted file is then taken row by row).",
        ),
    ] = None,
    place_lost: Annotated[
        list[str] | None,
        typer.Option(
            "--place-lost",
            metavar="PLACE",
            help="A country's place: outcome lost:PLACE, 1 if the regime lost it.",
        ),
    ] = None,
    lost_below: Annotated[
        float, typer.Option("--lost-below", help="A place is lost while its control is below.")
    ] = 0.5,
    level: Annotated[float, typer.Option(help="Bootstrap intervals' level (0.9: 90 %).")] = 0.95,
    steps: StepsOption = None,
    seed: SeedOption = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Change the baseline (and every variant)."),
    ] = None,
    workers: WorkersOption = None,
    dask: DaskOption = None,
    ray: RayOption = None,
    threshold: Annotated[int, typer.Option(help="Actives at which a tick counts as unrest.")] = 50,
    hold_share: Annotated[
        float,
        typer.Option(
            "--hold-share", help="The regime holds if peak actives < this share of citizens."
        ),
    ] = 0.25,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 2000,
    force: Annotated[bool, typer.Option("--force", help="Replace a previous comparison.")] = False,
    figure: Annotated[bool, typer.Option(help="Draw compare.png.")] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Run named variants of a scenario with common random numbers; paired differences."""
    from upheaval.experiments.compare import VariantError, bootstrap_table, write_comparison
    from upheaval.experiments.compare import compare as run_compare
    from upheaval.experiments.posterior import load_posterior, resample_draws
    from upheaval.experiments.store import StoreError
    from upheaval.scenario.loading import ScenarioError, apply_overrides, load

    try:
        sc = load(scenario)
        if set_:
            sc = apply_overrides(sc, list(set_))
        _check_backend(workers, dask, ray)
        if steps is not None and steps < 1:
            raise ValueError(f"--steps: must be ≥ 1, got {steps}")
        _warn_late_timeline(sc, steps)
        if draws is not None and posterior is None:
            raise ValueError("--draws: only with --posterior FILE")
        drawn = None
        if posterior is not None:
            # resampled from the comparison's root seed: the same --seed, the same draws
            root = sc.params.run.seed if seed is None else seed
            drawn = resample_draws(load_posterior(posterior), draws, root)
        if not 0 < level < 1:
            raise ValueError(f"--level: must lie in (0, 1), got {level}")
        from upheaval.views.progress import RunsProgress

        bar = RunsProgress("compare") if progress else None
        with sigterm_as_interrupt(), _backend(dask, ray) as executor, _maybe(bar):
            comp = run_compare(
                sc,
                what_if,
                out,
                replicates=replicates,
                steps=steps,
                seed=seed,
                executor=executor,
                workers=workers,
                threshold=threshold,
                hold_share=hold_share,
                force=force,
                on_progress=bar.update if bar else None,
                draws=drawn,
                place_lost=list(place_lost or ()),
                lost_below=lost_below,
            )
    except (ScenarioError, VariantError, StoreError, ValueError, ImportError) as e:
        _fail(e)
    except KeyboardInterrupt as e:
        typer.echo(f"interrupted; finished runs are in {out} (run again to resume)", err=True)
        raise typer.Exit(interrupted_exit(e)) from None
    table = bootstrap_table(comp, resamples=resamples, level=level, seed=comp.replicates)
    paths = write_comparison(comp, table)
    typer.echo(table.to_string(index=False, float_format=lambda x: f"{x:.4g}", na_rep=""))
    if figure:
        from upheaval.views.calibration import save_compare_figure

        save_compare_figure(table, out / "compare.png")
    typer.echo(
        f"wrote {paths['table']}, {paths['runs']}"
        + (f" and {out / 'compare.png'}" if figure else "")
    )


def score(
    run_dirs: Annotated[
        list[Path],
        typer.Argument(
            metavar="RUN_DIR [RUN_DIR ...]",
            help="Run directories of one country scenario (replicates: seeds or draws).",
        ),
    ],
    observed: Annotated[
        Path | None,
        typer.Option(
            "--observed",
            help="observed.json (default: the kazakhstan-2022 preset's).",
        ),
    ] = None,
    onset_share: Annotated[
        float,
        typer.Option("--onset-share", help="Share of a place's citizens active at its onset."),
    ] = 0.02,
    origin: Annotated[
        str,
        typer.Option("--origin", help="The first place, for the distance baseline."),
    ] = "Zhanaozen",
    as_json: Annotated[
        Path | None, typer.Option("--json", help="Also write the scores to this JSON file.")
    ] = None,
) -> None:
    """Score country runs against observed first-protest times: onset error, CRPS,
    Spearman rho, 90 % coverage, hit/miss, and no-model baselines
    (upheaval.experiments.scoring)."""
    import json
    from importlib import resources

    from upheaval.experiments.scoring import (
        Observations,
        ScoringError,
        baselines,
        load_runs,
        score_ensemble,
        table_lines,
    )

    if not 0.0 < onset_share <= 1.0:
        _fail(f"--onset-share: must be in (0, 1], got {onset_share}")
    if observed is None:
        files = resources.files("upheaval.scenario.presets")
        observed = Path(str(files.joinpath("kazakhstan-2022", "observed.json")))
    try:
        obs = Observations.load(observed)
        ens = load_runs(run_dirs, obs, onset_share)
        model = score_ensemble(ens, obs)
        base = baselines(obs, origin)
    except ScoringError as e:
        _fail(e)
    for line in table_lines(model, base):
        typer.echo(line)
    if as_json is not None:
        doc = {"model": model.as_dict(), "baselines": [b.as_dict() for b in base]}
        as_json.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n", "utf-8")


def register(app: typer.Typer) -> None:
    """Add the experiment commands to ``app``."""
    app.command()(score)
    app.command()(sweep)
    app.command()(query)
    app.command()(sensitivity)
    app.command()(calibrate)
    app.command()(compare)
