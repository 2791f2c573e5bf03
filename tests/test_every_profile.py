"""The reference plugin under every contract profile: the whole of ``bpcert check``.

For each of ``abiquo-4.0.4``, ``abiquo-4.7`` and ``abiquo-6.0``, every built-in scenario of
the default check and the stateful property suite (a few examples, to stay cheap) run
with the reference plugin, as ``bpcert check --plugin reference --profile P`` runs them.
The verdict is conformant; no rule is skipped as "not exercised" (a skip must say why, as
data: a need the run does not meet, a declaration); no rule of another profile is listed.

The other built-in scenarios are fleet-sized, for ``bpcert load``:
:data:`LOAD_SCENARIOS` says why each is left out, and a test keeps the two lists covering
every built-in, so a new one is never silently left out of every profile.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.check import CheckRequest, run_check
from conformance.rules import RULES
from conformance.runner import DEFAULT_SCENARIOS, NOT_EXERCISED
from simulator.profiles import PROFILE_IDS, get_profile
from simulator.scenario import builtin_scenarios

#: Built-in scenarios that ``bpcert check`` does not run, and why.
LOAD_SCENARIOS: dict[str, str] = {
    "fleet-10k": "10,000 VMs for 7 days: polls at datacenter size, for bpcert load",
    "load-s": "5,000 VMs for 7 days, for bpcert load and make bench",
    "load-m": "100,000 VMs over 4 backup managers: a conformance run refuses it",
    "load-l": "1,000,000 VMs over 10 backup managers: a conformance run refuses it",
}

#: Property-based examples per profile: enough to run the suite's rules, few to stay cheap.
EXAMPLES = 2


def test_every_builtin_scenario_is_checked_or_said_to_be_for_load() -> None:
    builtins = set(builtin_scenarios())
    assert set(DEFAULT_SCENARIOS) | set(LOAD_SCENARIOS) == builtins
    assert not set(DEFAULT_SCENARIOS) & set(LOAD_SCENARIOS)


@pytest.mark.parametrize("profile", PROFILE_IDS)
def test_the_reference_is_conformant_under_every_profile_with_every_rule_exercised(
    profile: str, tmp_path: Path
) -> None:
    request = CheckRequest(plugin="reference", profile=profile, examples=EXAMPLES, seed=1)
    report = run_check(request, out=tmp_path)
    assert report.profile == profile
    failing = [(r.id, r.findings[:1]) for r in report.rules if r.status in ("fail", "error")]
    assert report.verdict == "conformant", failing
    assert [s.name for s in report.scenarios] == list(DEFAULT_SCENARIOS)
    unexercised = {
        r.id: r.reason
        for r in report.rules
        if r.status == "skip" and (r.reason or "").startswith(NOT_EXERCISED)
    }
    assert not unexercised, f"rules no scenario or example exercised: {unexercised}"
    # The profile's rules, and no other: another generation's rules do not apply.
    applies = get_profile(profile).applies
    assert {r.id for r in report.rules} == {r.id for r in RULES if applies(r.capability)}
