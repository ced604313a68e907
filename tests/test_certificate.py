"""The LP optimality certificate: accepts HiGHS's optima, refuses a wrong point."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.api import RunConfig, run
from optimizer.solve.certificate import lp_certificate

LP = {
    "name": "certificate check",
    "window": {"years": 2, "period": "quarter"},
    "budget": {"total": 400, "lines": {"stock_fund": {"limit": 300, "levers": ["stockpile"]}}},
    "risk": {"cvar": {"alpha": 0.9, "weight": 0.5}},
    "countries": {"CN": {}, "JP": {}},
    "goods": {
        "gallium": {
            "unit": "t",
            "demand": 40,
            "damage": 100,
            "stockpile": {"unit_cost": 10, "storage_cost": 1, "residual_value": "80%"},
            "suppliers": {
                "china": {"country": "CN", "unit_cost": 1, "capacity": 60},
                "japan": {
                    "country": "JP",
                    "unit_cost": 3,
                    "capacity": 5,
                    "reserve": {"max": 20, "fee": 2},
                },
            },
        }
    },
    "disruptions": {
        "ban": {
            "probability": "20%",
            "start": "6 months",
            "duration": "1 year",
            "hits": [{"countries": ["CN"], "severity": "100%"}],
        },
    },
}


@pytest.mark.parametrize("interface", ["direct", "pyomo"])
def test_optimal_solution_is_certified(interface):
    r = run(LP, RunConfig(interface=interface))
    assert not r.model.lp.is_mip
    cert = lp_certificate(r.model.lp, r.solve.x, r.solve.row_dual)
    assert cert.ok, cert.reason
    assert cert.primal == pytest.approx(r.objective, rel=1e-9)


def test_suboptimal_or_infeasible_points_are_refused():
    """Buying 1 unit more stock than optimal keeps the point feasible but costs more: the
    duals of the true optimum no longer match its objective. Pushing a purchase over its
    capacity breaks a row."""
    r = run(LP, RunConfig(interface="direct"))
    lp, x, y = r.model.lp, r.solve.x.copy(), r.solve.row_dual
    buy = r.model.cols["buy"][0]
    worse = x.copy()
    worse[buy] += 1.0
    assert not lp_certificate(lp, worse, y).ok
    broken = x.copy()
    broken[r.model.cols["purchase"][0]] += 1e3
    cert = lp_certificate(lp, broken, y)
    assert not cert.ok and "violated" in cert.reason
    assert not lp_certificate(lp, x, None).ok


def test_certificate_on_random_generated_lps():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from generate import synthetic_scenario

    for seed in range(4):
        d = synthetic_scenario(3, 3, 12, 3, seed=seed, integer=False)
        r = run(d, RunConfig(interface="direct"))
        cert = lp_certificate(r.model.lp, r.solve.x, r.solve.row_dual)
        assert cert.ok, (seed, cert)
        assert np.isfinite(cert.dual)
