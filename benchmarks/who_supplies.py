"""What groups, limits on supply shares and a bill of materials add to a run (issue 12).

Takes a synthetic scenario of the ladder (``generate.py``), then the same with

- ``groups``: the hits on CN name a group ``autocracies`` (CN, RU) instead, the other countries
  form ``rest``;
- three limits: the CRMA rule (65 % per country, ``rest`` exempt, a benchmark), a hard cap of
  50 % on ``autocracies`` together, a floor of 20 % from ``rest``;
- a chain: the first good with domestic capacity is made from the second good (0.3 units per
  unit).

and prints, for each, the time to load (groups resolved), prepare (blocks aligned), build (limit
rows) and solve, with the model's rows and columns. Direct interface, compressed.

    python benchmarks/who_supplies.py [GOODS SUPPLIERS MONTHS SCENARIOS] [--seed N]
"""

from __future__ import annotations

import argparse
import copy
import time

from generate import synthetic_scenario

from optimizer.pipeline import RunConfig, run
from optimizer.scenario import load_scenario_dict


def variants(base: dict) -> dict[str, dict]:
    """The base scenario, with groups and limits, and with a chain besides."""
    countries = list(base["countries"])
    grouped = copy.deepcopy(base)
    grouped["groups"] = {
        "autocracies": [c for c in ("CN", "RU") if c in countries],
        "rest": [c for c in countries if c not in ("CN", "RU")],
    }
    for d in grouped["disruptions"].values():
        for h in d["hits"]:
            if "CN" in h["countries"]:
                h["countries"] = [
                    "autocracies",
                    *[c for c in h["countries"] if c not in ("CN", "RU")],
                ]
    grouped.setdefault("risk", {})["limits"] = {
        "crma": {"max_share": "65%", "per_country": True, "exempt": ["rest"], "benchmark": "1M"},
        "autocracies_total": {"max_share": "50%", "countries": ["autocracies"]},
        "rest_floor": {"min_share": "20%", "countries": ["rest"]},
    }
    chained = copy.deepcopy(grouped)
    goods = list(chained["goods"])
    made = [g for g in goods if chained["goods"][g].get("domestic")]
    if made:
        other = next(g for g in goods if g != made[0])
        chained["goods"][made[0]]["inputs"] = {other: 0.3}
    return {"base": base, "groups + 3 limits": grouped, "+ chain": chained}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[50, 8, 60, 50])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    base = synthetic_scenario(*args.sizes, seed=args.seed, integer=False)
    for name, data in variants(base).items():
        t = time.perf_counter()
        load_scenario_dict(data)
        load = time.perf_counter() - t
        res = run(data, RunConfig(interface="direct"))
        s = res.seconds
        print(
            f"{name:18s} load {load:6.3f} s  prepare {s['prepare']:6.3f} s  "
            f"build {s['build']:6.3f} s  solve {s.get('solve', 0.0):7.2f} s  {res.status}  "
            f"rows {res.model.lp.n_rows:,}  columns {res.model.lp.n_cols:,}"
        )


if __name__ == "__main__":
    main()
