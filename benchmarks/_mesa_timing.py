"""Time Mesa's own Epstein civil-violence example; run inside the Mesa virtual environment.

Invoked by ``vs_mesa.py`` as a subprocess (it must not import upheaval: it runs under
another interpreter). Prints one JSON object on stdout::

    {"mesa_version": ..., "python": ..., "import_s": ...,
     "runs": [{"seed": s, "n_agents": n, "init_s": ..., "tick_s": [...], "cpu_s": ...,
               "collect_s": [...], "collect_cpu_s": ...}]}

``tick_s`` (wall time of each timed ``model.step()``) gives agent-steps per second and
``cpu_s`` (process CPU time of all timed ticks) the same per CPU-second; the import and
the model's construction are reported but not timed in. Mesa's example runs its
``DataCollector`` inside ``model.step()``; ``collect_s`` and ``collect_cpu_s`` are the
wall and CPU time spent in ``datacollector.collect`` during each timed tick (measured by
wrapping that method), so that its rate can be given with and without the collector.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import platform
import sys
import time


def _build_kwargs(model_cls: type, module, seed: int) -> dict:
    """Constructor arguments that seed the model, for the installed Mesa version.

    Mesa 3.5 moved the parameters into a ``scenario`` object (``EpsteinScenario(rng=…)``);
    earlier 3.x releases took ``seed=`` or ``rng=`` directly.
    """
    params = inspect.signature(model_cls.__init__).parameters
    if "scenario" in params and hasattr(module, "EpsteinScenario"):
        scenario_cls = module.EpsteinScenario
        names = _field_names(scenario_cls)
        for key in ("rng", "seed"):
            if key in names:
                return {"scenario": scenario_cls(**{key: seed})}
        return {"scenario": scenario_cls()}
    for key in ("rng", "seed"):
        if key in params:
            return {key: seed}
    return {}


def _field_names(cls: type) -> set[str]:
    if dataclasses.is_dataclass(cls):
        return {f.name for f in dataclasses.fields(cls)}
    names = set(getattr(cls, "model_fields", {}) or {})
    for klass in cls.__mro__:
        names.update(getattr(klass, "__annotations__", {}))
    return names


def _time_collector(model) -> dict:
    """Wrap ``model.datacollector.collect`` so that the time spent in it is summed
    (wall into ``["wall"]``, reset by the caller each tick; CPU into ``["cpu"]``)."""
    spent = {"wall": 0.0, "cpu": 0.0, "found": False}
    collector = getattr(model, "datacollector", None)
    if collector is None or not hasattr(collector, "collect"):
        return spent
    original = collector.collect
    spent["found"] = True

    def collect(*args, **kwargs):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent["wall"] += time.perf_counter() - t0
            spent["cpu"] += time.process_time() - c0

    collector.collect = collect
    return spent


def _count(model, state: str) -> int | None:
    """Citizens in a state ("ACTIVE", "ARRESTED"), as the example's own counts after a
    step (``model.ACTIVE`` …); None for a Mesa version without them."""
    value = getattr(model, state, None)
    return None if value is None else int(value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--width", type=int, required=True)
    ap.add_argument("--height", type=int, required=True)
    ap.add_argument("--warmup", type=int, required=True)
    ap.add_argument("--ticks", type=int, required=True)
    ap.add_argument("--seeds", type=int, nargs="+", required=True)
    args = ap.parse_args()

    t0 = time.perf_counter()
    import mesa
    from mesa.examples.advanced.epstein_civil_violence import model as ecv

    import_s = time.perf_counter() - t0
    model_cls = ecv.EpsteinCivilViolence
    signature = str(inspect.signature(model_cls.__init__))

    runs = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        m = model_cls(width=args.width, height=args.height, **_build_kwargs(model_cls, ecv, seed))
        init_s = time.perf_counter() - t0
        for _ in range(args.warmup):
            m.step()
        collect = _time_collector(m)
        # Mesa steps every agent each tick, jailed citizens included (they count down).
        n_agents = len(m.agents)
        tick_s, collect_s = [], []
        c0 = time.process_time()
        for _ in range(args.ticks):
            collect["wall"] = 0.0
            t0 = time.perf_counter()
            m.step()
            tick_s.append(time.perf_counter() - t0)
            collect_s.append(collect["wall"])
        cpu_s = time.process_time() - c0
        if len(m.agents) != n_agents:
            raise RuntimeError(f"agent count changed during timing: {n_agents} → {len(m.agents)}")
        runs.append(
            {
                "seed": seed,
                "n_agents": n_agents,
                "init_s": init_s,
                "tick_s": tick_s,
                "cpu_s": cpu_s,
                "collect_s": collect_s,
                "collect_cpu_s": collect["cpu"],
                "active_at_end": _count(m, "ACTIVE"),
                "jailed_at_end": _count(m, "ARRESTED"),
            }
        )
        del m

    json.dump(
        {
            "mesa_version": mesa.__version__,
            "python": platform.python_version(),
            "executable": sys.executable,
            "constructor": signature,
            "import_s": import_s,
            "runs": runs,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
