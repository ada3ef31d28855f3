"""Twenty workstations against one PostgreSQL office, next to one workstation on the same harness in the same
run (``load_office``): per-operation p50/p95/p99, no deadlock or lost update reaching a clerk, the money
adding up. ``CURBDESK_LOAD_URL`` (a throw-away copy of the million-citation office: the run adds payments,
notes, holds, approvals, a sync and an import) and ``CURBDESK_LOAD_DATA`` (its data folder, for the audit
key) name the office; skipped without them. Run with
``pytest tests/benchmarks/bench_load_office.py --benchmark-only -p no:randomly -s``.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.benchmarks import load_office

URL = os.environ.get("CURBDESK_LOAD_URL", "")
SECONDS = float(os.environ.get("CURBDESK_LOAD_SECONDS", "60"))
INTERACTIVE_P95_GOAL_MS = 50.0

pytestmark = pytest.mark.skipif(not URL, reason="CURBDESK_LOAD_URL names no office copy to load")


@pytest.mark.parametrize("clerks", [1, 20])
def test_workstations_at_once(benchmark, clerks: int) -> None:  # type: ignore[no-untyped-def]
    work = load_office.Background() if clerks > 1 else None
    result = benchmark.pedantic(load_office.run, args=(URL, clerks, SECONDS, 1.0, work), rounds=1, iterations=1)
    print(f"\n{clerks} workstation(s): {json.dumps(result['operations'])}\nload {result['load_start']} -> "
          f"{result['load_end']}; checks {result['checks']}")
    benchmark.extra_info.update({"operations": result["operations"], "load": result["load_end"]})
    assert result["failure count"] == 0, result["failures"]
    assert not result["checks"]["problems"], result["checks"]["problems"]
    assert result["checks"]["matched payments whose ledger differs (since the run began)"] == 0
