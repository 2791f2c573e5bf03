"""A load run judges ``polling.fits-interval``, the rule ``bpcert check`` sends users there for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.cli import main


def _fits_interval(out: Path) -> dict[str, Any]:
    report = json.loads((out / "report.json").read_text())
    (rule,) = [r for r in report["rules"] if r["id"] == "polling.fits-interval"]
    assert isinstance(rule, dict)
    return rule


def test_a_load_run_whose_checks_outlast_the_interval_fails_polling_fits_interval(
    tmp_path: Path,
) -> None:
    # Every measured wall second becomes 100,000 simulated seconds.
    out = tmp_path / "slow"
    args = ["load", "--vms", "40", "--days", "0.25", "--check-delay", "5"]
    args += ["--latency-factor", "100000", "--trace-level", "off", "--out", str(out), "--quiet"]
    assert main(args) == 1
    rule = _fits_interval(out)
    assert rule["status"] == "fail" and rule["findings_total"] > 0
    finding = rule["findings"][0]
    assert "longer than the 5 s check interval" in finding["message"]
    assert finding["replay"] and " load " in f" {finding['replay']} "


def test_a_load_run_whose_checks_fit_passes_polling_fits_interval(tmp_path: Path) -> None:
    out = tmp_path / "ok"
    args = ["load", "--vms", "40", "--days", "0.25", "--latency", "fixed"]
    args += ["--trace-level", "off", "--out", str(out), "--quiet"]
    assert main(args) == 0
    assert _fits_interval(out)["status"] == "pass"
