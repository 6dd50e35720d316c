"""The architecture holds: import-linter's contracts (pyproject.toml, docs/architecture.md) are kept.

The layers contract is what keeps the import cycles out (config → runner → checks → base → config,
cli ↔ demo): a lower layer importing a higher one fails here, with the offending import line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

CONTRACTS = ("layers", "families", "checks-layers", "app-layers")


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run(
        [str(lint), "--no-cache", *(arg for c in CONTRACTS for arg in ("--contract", c))],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    report = out.stdout + out.stderr
    assert out.returncode == 0, report
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in report
