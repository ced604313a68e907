"""Scale checks, marked ``slow``: CI runs the fast representative subset (``-m "not slow"``);
run these with ``pytest -m slow``. They check answers at size, never timings (timings live in
``benchmarks/``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from optimizer.api import RunConfig, run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import synthetic_scenario  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("seed", [0, 1])
def test_compression_exact_at_medium_size(seed):
    """20 goods x 5 suppliers x 36 months x 20 disruptions: the compressed and the
    per-period model give the same optimum (about 100k columns uncompressed)."""
    d = synthetic_scenario(20, 5, 36, 20, seed=seed, integer=False)
    on = run(d, RunConfig(compress_time=True, interface="direct"))
    off = run(d, RunConfig(compress_time=False, interface="direct"))
    assert on.status == off.status == "optimal"
    assert on.objective == pytest.approx(off.objective, rel=1e-6)
    assert (
        off.portfolio["solver"]["model"]["variables"]
        > 8 * on.portfolio["solver"]["model"]["variables"]
    )


def test_ladder_m_compressed_solves_and_interfaces_agree():
    """The benchmark's M scenario (50 x 8 x 60 x 50), compressed: optimal, and the same
    objective through Pyomo and directly."""
    d = synthetic_scenario(50, 8, 60, 50, seed=0, integer=False)
    direct = run(d, RunConfig(interface="direct"))
    pyomo = run(d, RunConfig(interface="pyomo"))
    assert direct.status == pyomo.status == "optimal"
    assert direct.objective == pytest.approx(pyomo.objective, rel=1e-7)
