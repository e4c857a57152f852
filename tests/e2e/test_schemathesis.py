"""Schemathesis over Microsoft's description of Graph's calendar surface, against the local
service over real loopback sockets, with real ids: not one server error.

A bounded run (one case per operation, at most `BUDGET` seconds); `python -m tools.graph_fuzz`
is the long one (its figures are in docs/sandbox.md). The description lies beside the
checkout, as in CI; without it this test skips, saying where it looked.
"""

from __future__ import annotations

import pytest
from tools.graph_fuzz import DESCRIPTION, run

BUDGET = 90.0


@pytest.mark.skipif(
    not DESCRIPTION.is_file(),
    reason=f"Graph's description is not beside the checkout: {DESCRIPTION}",
)
def test_schemathesis_finds_no_server_error() -> None:
    figures = run(DESCRIPTION, max_examples=1, phases=("examples", "fuzzing"), deadline=BUDGET)
    print(figures.report())
    assert figures.server_errors == []
    assert figures.schemathesis_errors == []
    # The run reached the service: most operations, and real ids made many of them succeed.
    assert figures.operations_reached >= 300, figures.report()
    assert figures.operations_succeeded >= 40, figures.report()
