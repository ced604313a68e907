"""Speed of the risk model's sampling (issue 11): draw, merge and materialise futures.

A synthetic scenario from ``generate.py`` (30 goods x 5 suppliers x 60 months by default) gets a
``risk_model:`` of 6 events (rates and probabilities, single-country and common shocks,
uniform, triangular and discrete marks) instead of its hand-written disruptions. For each
number of draws the table gives the best of ``--repeat`` timings (seconds) of:

- **draw**: :func:`optimizer.sampling.draw_occurrences` (every event's occurrences);
- **merge**: :func:`optimizer.sampling.merge_draws` (identical draws grouped);
- **materialise**: :func:`optimizer.sampling.materialise` of every distinct sample, in chunks of
  ``--chunk`` futures (the (K, J, T) arrays of 10,000 futures would take 0.7 GB at once);
- **draw_futures**: the whole of :func:`optimizer.sampling.draw_futures` (draw, merge and
  materialise at once, as ``prepare`` calls it), for sizes up to ``--whole-up-to``.

Usage::

    python benchmarks/sampling.py [--goods 30] [--suppliers 5] [--months 60] \\
        [--draws 1000,10000] [--repeat 3] [--chunk 1000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import synthetic_scenario  # noqa: E402

from optimizer.sampling import (  # noqa: E402
    draw_futures,
    draw_occurrences,
    materialise,
    merge_draws,
)
from optimizer.scenario import load_scenario_dict  # noqa: E402

EVENTS = {
    "cn_export_controls": {
        "rate": "0.4 per year",
        "countries": ["CN"],
        "severity": {"min": "50%", "max": "100%"},
        "duration": {"min": "3 months", "max": "18 months"},
        "price_multiplier": {"min": 1.2, "max": 3},
    },
    "ru_sanctions": {
        "probability": "30%",
        "countries": ["RU"],
        "severity": [["50%", 1], ["100%", 2]],
        "duration": {"min": "6 months", "mode": "12 months", "max": "36 months"},
    },
    "taiwan_strait": {
        "rate": "0.02 per year",
        "countries": ["CN", "TW"],
        "severity": "100%",
        "duration": {"min": "12 months", "max": "36 months"},
        "price_multiplier": 3,
    },
    "congo_unrest": {
        "rate": "0.3 per year",
        "countries": ["CD"],
        "severity": {"min": "20%", "max": "60%"},
        "duration": {"min": "1 month", "max": "6 months"},
    },
    "shipping_crisis": {
        "rate": "0.2 per year",
        "countries": ["CN", "JP", "KR"],
        "severity": {"min": "10%", "mode": "20%", "max": "40%"},
        "duration": {"min": "2 months", "max": "8 months"},
        "demand_multiplier": {"min": 1, "max": 1.2},
    },
    "chile_drought": {
        "probability": "25%",
        "countries": ["CL"],
        "severity": {"min": "10%", "max": "30%"},
        "duration": "6 months",
    },
}


def risk_scenario(goods: int, suppliers: int, months: int, seed: int = 1):
    """The synthetic scenario with its disruptions replaced by the risk model above (events
    naming countries the scenario lacks keep only the countries it has)."""
    data = synthetic_scenario(goods, suppliers, months, 1, seed=seed, integer=False)
    data.pop("disruptions", None)
    known = set(data["countries"])
    events = {}
    for name, ev in EVENTS.items():
        countries = [c for c in ev["countries"] if c in known]
        if countries:
            events[name] = {**ev, "countries": countries}
    data["risk_model"] = {"samples": 1000, "seed": 1, "events": events}
    return load_scenario_dict(data).scenario


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--goods", type=int, default=30)
    ap.add_argument("--suppliers", type=int, default=5)
    ap.add_argument("--months", type=int, default=60)
    ap.add_argument("--draws", default="1000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=1000)
    ap.add_argument("--whole-up-to", type=int, default=2000)
    args = ap.parse_args(argv)

    s = risk_scenario(args.goods, args.suppliers, args.months)
    events = len(s.risk_model.events)
    print(
        f"{args.goods} goods x {args.suppliers} suppliers x {args.months} months, "
        f"{events} events; best of {args.repeat}; seconds\n"
    )
    print("| draws | occurrences | distinct | draw | merge | materialise | total | draw_futures |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in (int(x) for x in args.draws.split(",")):
        t_draw, occ = best(lambda n=n: draw_occurrences(s, n, 1), args.repeat)
        t_merge, merged = best(lambda occ=occ: merge_draws(occ), args.repeat)
        reps = merged.first_draw

        def chunks(occ=occ, reps=reps) -> None:
            for i in range(0, len(reps), args.chunk):
                materialise(s, occ, reps[i : i + args.chunk])

        t_mat, _ = best(chunks, args.repeat)
        whole = "-"
        if n <= args.whole_up_to:
            t_whole, _ = best(lambda n=n: draw_futures(s, n, 1), args.repeat)
            whole = f"{t_whole:.3f}"
        total = t_draw + t_merge + t_mat
        print(
            f"| {n:,} | {len(occ.draw):,} | {len(merged.count):,} | {t_draw:.3f} | "
            f"{t_merge:.3f} | {t_mat:.3f} | {total:.3f} | {whole} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
