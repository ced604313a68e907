"""Synthetic scenarios of any size, for benchmarks and randomised tests.

:func:`synthetic_scenario` returns a scenario as the plain dictionary a scenario file holds
(``scenario-format.md``), with plausible but invented figures:

- demand 10 to 5,000 units a year per good, prices 2k to 2M euros a unit, damage 3 to 20 x price;
- ``suppliers`` suppliers per good, each in a different country out of a pool of about ten
  (CN and RU always among them), one dominant country per good (CN most often), the cheapest,
  with capacity for 50 to 90 % of the demand (a little more); the others dearer, with capacity for
  at least 40 % of the demand between them, some only after a spot lead time;
- every lever kind: a stockpile on most goods, reservation options (with a fee; some with a fixed
  contract cost when ``integer``), domestic capacity on about a fifth of the goods (lead time,
  lifetime; a fixed plant cost or whole modules when ``integer``), demand reduction on some;
- a total budget and two budget lines sized to bind (on the supply that the disruptions cut from
  the goods worth protecting), sometimes the 65 % concentration cap on CN and RU (with two or
  more suppliers per good), a CVaR weight;
- ``scenarios`` disruptions whose probabilities add up to about 30 %, each with 1 to 3 hits
  (countries x goods x severity; some hits with their own start and duration, so they overlap) and
  price and demand multipliers.

The numbers come from a seeded NumPy generator: the same arguments give the same dictionary. With
``integer=False`` the figures are the same as with ``integer=True`` except that the fixed costs,
modules and preparation costs (the only sources of integer variables) are left out.

Command line (writes YAML to stdout)::

    python benchmarks/generate.py GOODS SUPPLIERS MONTHS SCENARIOS [--seed N] [--lp]
    python benchmarks/generate.py 10 4 24 10 --seed 1 > s.yaml
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
import yaml

#: Country pool: CN and RU first (the usual suspects), then producers of critical goods.
COUNTRY_NAMES = {
    "CN": "China",
    "RU": "Russia",
    "US": "United States",
    "JP": "Japan",
    "KR": "South Korea",
    "DE": "Germany",
    "CA": "Canada",
    "AU": "Australia",
    "BR": "Brazil",
    "IN": "India",
    "ZA": "South Africa",
    "CL": "Chile",
    "TR": "Turkiye",
    "MX": "Mexico",
    "ID": "Indonesia",
    "VN": "Vietnam",
}
_POOL = list(COUNTRY_NAMES)
_BASE_COUNTRIES = 10


def _sig(x: float, digits: int = 4) -> float:
    """``x`` rounded to ``digits`` significant digits, as a plain Python float."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return x
    return float(round(x, digits - 1 - int(math.floor(math.log10(abs(x))))))


def _months(n: int) -> str:
    return f"{int(n)} months"


def synthetic_scenario(
    goods: int,
    suppliers: int,
    months: int,
    scenarios: int,
    seed: int = 0,
    integer: bool = True,
) -> dict:
    """A scenario dictionary with ``goods`` goods of ``suppliers`` suppliers each, a window of
    ``months`` monthly periods and ``scenarios`` disruptions (the engine adds no_disruption).

    Deterministic in its arguments. ``integer=False`` drops every source of integer variables
    (fixed costs, modules, preparation costs) and keeps all other figures identical.
    """
    if goods < 1 or suppliers < 1 or months < 1 or scenarios < 0:
        raise ValueError("need goods >= 1, suppliers >= 1, months >= 1 and scenarios >= 0")
    rng = np.random.default_rng(seed)
    years = months / 12.0

    n_countries = min(len(_POOL), max(_BASE_COUNTRIES, suppliers))
    pool = _POOL[:n_countries]
    others_pool = pool[2:]

    def loguniform(lo: float, hi: float) -> float:
        return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))

    # --- goods --------------------------------------------------------------------------------
    names = [f"good_{i + 1:03d}" for i in range(goods)]
    goods_out: dict[str, dict] = {}
    supplier_countries: dict[str, list[str]] = {}
    has_stock = rng.random(goods) < 0.8
    has_domestic = rng.random(goods) < 0.2
    has_reduction = rng.random(goods) < 0.3
    has_stock[0] = True  # every lever kind appears at least once
    has_domestic[min(1, goods - 1)] = True
    has_reduction[goods - 1] = True
    any_reserve = False

    for gi, name in enumerate(names):
        demand = _sig(loguniform(10, 5000), 3)
        price = loguniform(2e3, 2e6)
        damage = _sig(price * rng.uniform(3, 20))
        # the dominant country: China most often, sometimes Russia, else another producer
        u = rng.random()
        dominant = "CN" if u < 0.6 else "RU" if u < 0.75 else str(rng.choice(others_pool))
        share_dom = rng.uniform(0.5, 0.9)
        rest = [c for c in pool if c != dominant]
        order = [str(c) for c in rng.permutation(rest)]
        countries = [dominant] + [order[i % len(order)] for i in range(suppliers - 1)]
        # capacities: the dominant country holds share_dom of demand (a little more), the others
        # share the rest with some slack
        caps = np.zeros(suppliers)
        if suppliers == 1:
            caps[0] = demand * rng.uniform(1.0, 1.3)
        else:
            caps[0] = demand * share_dom * rng.uniform(1.0, 1.2)
            # enough for the 65 % concentration cap to be met without a shortfall
            caps[1:] = (
                demand
                * max(1 - share_dom, 0.4)
                * rng.uniform(1.1, 1.6)
                * rng.dirichlet(np.ones(suppliers - 1))
            )
        premiums = np.concatenate([[1.0], rng.uniform(1.05, 1.5, suppliers - 1)])
        lead_draw = rng.random(suppliers)
        lead_choice = rng.choice([2, 3, 6, 9], suppliers)
        reserve_draw = rng.random(suppliers)
        reserve_max = rng.uniform(0.1, 0.5, suppliers)
        reserve_fee = rng.uniform(0.05, 0.15, suppliers)
        reserve_fixed_draw = rng.random(suppliers)
        reserve_fixed_mult = rng.uniform(1.0, 3.0, suppliers)

        sups: dict[str, dict] = {}
        seen: dict[str, int] = {}
        for j, c in enumerate(countries):
            seen[c] = seen.get(c, 0) + 1
            sname = c.lower() if seen[c] == 1 else f"{c.lower()}_{seen[c]}"
            unit_cost = _sig(price * premiums[j])
            s: dict = {"country": c, "unit_cost": unit_cost, "capacity": _sig(caps[j], 3)}
            if j > 0 and lead_draw[j] < 0.3:
                s["spot_lead_time"] = _months(lead_choice[j])
            # reservation options with the alternative suppliers (or the only one)
            can_reserve = j > 0 or suppliers == 1
            force = can_reserve and not any_reserve and gi == goods - 1
            if can_reserve and (reserve_draw[j] < 0.4 or force):
                rmax = _sig(demand * reserve_max[j], 3)
                fee = _sig(unit_cost * reserve_fee[j])
                r: dict = {"max": rmax, "fee": fee}
                if integer and reserve_fixed_draw[j] < 0.4:
                    r["fixed_cost"] = _sig(fee * rmax * reserve_fixed_mult[j])
                s["reserve"] = r
                any_reserve = True
            sups[sname] = s
        supplier_countries[name] = countries

        good: dict = {"unit": "t", "demand": demand, "damage": damage}

        # stockpile
        st_cost = price * rng.uniform(1.0, 1.1)
        st_storage = st_cost * rng.uniform(0.01, 0.05)
        st_residual = rng.uniform(0.6, 0.95)
        st_max = demand * rng.uniform(0.25, 1.0)
        st_release = demand * rng.uniform(0.5, 2.0)
        st_initial = st_max * rng.uniform(0, 0.3) if rng.random() < 0.2 else 0.0
        if has_stock[gi]:
            good["stockpile"] = {
                "initial": _sig(st_initial, 3),
                "max": _sig(st_max, 3),
                "unit_cost": _sig(st_cost),
                "storage_cost": _sig(st_storage, 3),
                "residual_value": round(st_residual, 3),
                "max_release": _sig(st_release, 3),
            }

        # domestic capacity (reshoring, recycling)
        d_capex = price * rng.uniform(2, 6)
        d_unit = price * rng.uniform(1.1, 1.6)
        d_max = demand * rng.uniform(0.2, 0.6)
        d_lead = int(rng.choice([6, 12, 18, 24, 36]))
        d_life = int(rng.choice([10, 15, 20, 25]))
        d_fixed = d_capex * d_max * rng.uniform(0.2, 0.5)
        d_modular = rng.random() < 0.5
        d_modules = int(rng.choice([2, 3, 4]))
        if has_domestic[gi]:
            dom = {
                "capex": _sig(d_capex),
                "unit_cost": _sig(d_unit),
                "max": _sig(d_max, 3),
                "lead_time": _months(d_lead),
                "lifetime": f"{d_life} years",
            }
            if integer:
                if d_modular:
                    dom["module"] = _sig(dom["max"] / d_modules, 6)
                    dom["max"] = _sig(dom["module"] * d_modules, 6)
                else:
                    dom["fixed_cost"] = _sig(d_fixed)
            good["domestic"] = dom

        # demand measures
        r_share = rng.uniform(0.05, 0.2)
        r_cost = price * rng.uniform(1.5, 4.0)
        r_prep = rng.random() < 0.3
        r_prep_cost = r_cost * demand * rng.uniform(0.05, 0.2)
        if has_reduction[gi]:
            red = {"max_share": round(r_share, 3), "unit_cost": _sig(r_cost)}
            if integer and r_prep:
                red["preparation_cost"] = _sig(r_prep_cost)
            good["demand_reduction"] = red

        good["suppliers"] = sups
        goods_out[name] = good

    # --- disruptions ------------------------------------------------------------------------------
    disruptions: dict[str, dict] = {}
    if scenarios:
        probs = rng.dirichlet(np.full(scenarios, 2.0)) * 0.3
        probs = np.maximum(np.round(probs, 6), 1e-6)
    for k in range(scenarios):
        start = int(rng.integers(0, months))
        duration = int(rng.integers(1, min(24, months) + 1))
        n_hits = int(rng.integers(1, 4))
        hits = []
        for h in range(n_hits):
            u = rng.random()
            if u < 0.5:
                hc = ["CN"]
            elif u < 0.7:
                hc = ["RU"]
            elif u < 0.8:
                hc = ["CN", "RU"]
            else:
                hc = [str(rng.choice(others_pool))]
            severity = 1.0 if rng.random() < 0.3 else round(float(rng.uniform(0.3, 1.0)), 2)
            share = rng.uniform(0.05, 0.3)
            # goods that the hit countries supply (a hit elsewhere would only move the flags)
            supplied = [g for g in names if set(hc) & set(supplier_countries[g])] or names
            n_goods = max(1, min(len(supplied), int(round(len(supplied) * share))))
            picked = sorted(str(g) for g in rng.choice(supplied, n_goods, replace=False))
            all_goods = rng.random() < 0.03
            own_timing = h > 0 and rng.random() < 0.6
            h_start = max(0, min(months - 1, start + int(rng.integers(-3, 7))))
            h_duration = int(rng.integers(1, min(24, months) + 1))
            hit: dict = {"countries": hc}
            if not all_goods:
                hit["goods"] = picked
            hit["severity"] = severity
            if own_timing:
                hit["start"] = _months(h_start)
                hit["duration"] = _months(h_duration)
            hits.append(hit)
        price_mult = round(float(rng.uniform(1.0, 3.0)), 2)
        demand_mult = round(float(rng.uniform(1.02, 1.2)), 2) if rng.random() < 0.3 else 1.0
        d: dict = {
            "probability": float(probs[k]),
            "start": _months(start),
            "duration": _months(duration),
            "hits": hits,
            "price_multiplier": price_mult,
        }
        if demand_mult != 1.0:
            d["demand_multiplier"] = demand_mult
        disruptions[f"disruption_{k + 1:03d}"] = d

    # --- budget and risk ------------------------------------------------------------------------
    # Size the budget on what is worth protecting, so that it binds: a good is worth protecting
    # when the probability that a disruption hits it times its damage exceeds a fraction of its
    # price; its need is the supply it loses in its worst disruption (capped by the stock's room).
    need = {"stockpile": 0.0, "industry": 0.0}
    for name, good in goods_out.items():
        sups = good["suppliers"]
        capacity = sum(s["capacity"] for s in sups.values()) or 1.0
        p_hit, worst = 0.0, 0.0
        for d in disruptions.values():
            lost = 0.0
            for hit in d["hits"]:
                if "goods" in hit and name not in hit["goods"]:
                    continue
                months_hit = int((hit.get("duration") or d["duration"]).split()[0])
                cut = sum(s["capacity"] for s in sups.values() if s["country"] in hit["countries"])
                lost += hit["severity"] * cut / capacity * good["demand"] * months_hit / 12.0
            if lost > 0:
                p_hit += d["probability"]
                worst = max(worst, lost)
        price = min(s["unit_cost"] for s in sups.values())
        if p_hit * good["damage"] < 0.2 * price or worst == 0:
            continue
        if "stockpile" in good:
            st = good["stockpile"]
            need["stockpile"] += min(worst, st["max"] - st["initial"]) * st["unit_cost"]
        for s in sups.values():
            if "reserve" in s:
                need["industry"] += s["reserve"]["max"] * s["reserve"]["fee"] * years
        if "domestic" in good:
            need["industry"] += 0.2 * good["domestic"]["max"] * good["domestic"]["capex"]
    need_total = need["stockpile"] + need["industry"]
    scale = rng.uniform(0.25, 0.5, 3)
    budget = {
        "total": _sig(max(need_total, 1e6) * scale[0], 3),
        "lines": {
            "stockpile_fund": {
                "limit": _sig(max(need["stockpile"], 1e6) * scale[1], 3),
                "levers": ["stockpile"],
            },
            "industry_fund": {
                "limit": _sig(max(need["industry"], 1e6) * scale[2], 3),
                "levers": ["domestic", "reserve"],
            },
        },
    }
    risk: dict = {"cvar": {"alpha": 0.95, "weight": round(float(rng.uniform(0.1, 0.5)), 2)}}
    if rng.random() < 0.5 and suppliers >= 2:  # a cap on a single-supplier good forces shortfalls
        risk = {"concentration_cap": {"share": "65%", "countries": ["CN", "RU"]}, **risk}

    return {
        "name": f"synthetic {goods}x{suppliers}x{months}x{scenarios} seed {seed}"
        + ("" if integer else " (LP)"),
        "description": "Invented figures from benchmarks/generate.py: goods x suppliers x months "
        "x scenarios.",
        "window": {"years": round(years, 6), "period": "month"},
        "budget": budget,
        "risk": risk,
        "countries": {c: {"name": COUNTRY_NAMES[c]} for c in pool},
        "goods": goods_out,
        "disruptions": disruptions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write a synthetic scenario (YAML) to stdout.",
    )
    parser.add_argument("goods", type=int)
    parser.add_argument("suppliers", type=int, help="suppliers per good")
    parser.add_argument("months", type=int, help="window length in monthly periods")
    parser.add_argument("scenarios", type=int, help="number of disruptions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--lp",
        action="store_true",
        help="leave out fixed costs, modules and preparation costs (no integers)",
    )
    args = parser.parse_args(argv)
    d = synthetic_scenario(
        args.goods, args.suppliers, args.months, args.scenarios, seed=args.seed, integer=not args.lp
    )
    yaml.safe_dump(d, sys.stdout, sort_keys=False, allow_unicode=True, width=100)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
