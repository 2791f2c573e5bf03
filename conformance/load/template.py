"""The load template and the scenarios a load run takes.

``bpcert load`` runs the load template (``scenarios/load-s.yaml``: a nightly COMPLETE
backup in the 22:00..02:00 UTC window, 10 % of the VMs also a SNAPSHOT every 4 hours,
retention per policy) scaled to the fleet size, duration, check delay, policy mix and
seed of the command line (:func:`build_load_scenario`), or a scenario as it stands
(:func:`scenario_for_load`). :func:`parse_policy_mix` reads ``--policy-mix``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from typing import Literal

from pydantic import ValidationError

from simulator.scenario import Scenario, load_scenario

__all__ = [
    "DAY_S",
    "HOURLY_POLICIES",
    "LOAD_TEMPLATE",
    "MIX_EXAMPLE",
    "NIGHT_POLICIES",
    "VMS_PER_DATACENTER",
    "LoadError",
    "ScenarioLatency",
    "build_load_scenario",
    "default_datacenters",
    "parse_policy_mix",
    "scenario_for_load",
]

#: The built-in scenario every load run starts from.
LOAD_TEMPLATE = "load-s"
#: The nightly policies of the template, one per hour of the 22:00..02:00 window.
NIGHT_POLICIES: tuple[str, ...] = (
    "DAILY-2200",
    "DAILY-2300",
    "DAILY-0000",
    "DAILY-0100",
    "DAILY-0200",
)
#: The template's "every 4 hours" snapshot policy.
HOURLY_POLICIES: tuple[str, ...] = ("HOURLY-4",)
_GROUPS: dict[str, tuple[str, ...]] = {"night": NIGHT_POLICIES, "hourly": HOURLY_POLICIES}
_NONE = "none"
#: A --policy-mix that error messages and the help show as an example.
MIX_EXAMPLE = "night:0.9,night+hourly:0.1"
#: Seconds in a simulated day.
DAY_S = 86400.0
#: ``bpcert load`` puts at most this many VMs in a datacenter unless told otherwise:
#: load-m's density (100,000 VMs over four datacenters).
VMS_PER_DATACENTER = 25_000

#: A scenario's latency modes; the load template takes only "measured" and "fixed".
ScenarioLatency = Literal["measured", "fixed", "distribution"]


class LoadError(ValueError):
    """A load or sweep request that cannot run as given (a usage error, exit code 4)."""


# ---------------------------------------------------------------------- policy mix


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def parse_policy_mix(
    text: str, known_codes: Sequence[str] = (*NIGHT_POLICIES, *HOURLY_POLICIES)
) -> tuple[tuple[tuple[str, ...], float], ...]:
    """Parse a ``--policy-mix`` into ``((policy codes, weight), ...)`` for ``fleet.policy_mix``.

    The syntax is comma-separated ``TERM:WEIGHT`` entries, e.g. ``night:0.9,night+hourly:0.1``:

    - a TERM is ``none`` (no backup configuration) or ``+``-joined parts, each ``night``
      (one nightly COMPLETE backup, spread evenly over the five policies of the
      22:00..02:00 window), ``hourly`` (a SNAPSHOT every 4 hours) or a policy code of the
      template (``DAILY-2300``, ``HOURLY-4``, ...);
    - a WEIGHT is a positive number; weights are relative (``night:9,night+hourly:1`` is
      the same mix).

    A term with ``night`` becomes five entries, one per nightly policy, each with a fifth
    of the weight. Raises :class:`LoadError` saying what is wrong and how to write it.
    """
    codes = list(known_codes)
    if not text or not text.strip():
        raise LoadError(
            f"--policy-mix is empty; expected TERM:WEIGHT entries, e.g. {MIX_EXAMPLE!r}"
        )
    seen_terms: dict[tuple[str, ...], str] = {}
    out: list[tuple[tuple[str, ...], float]] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            raise LoadError(
                f"--policy-mix {text!r} has an empty entry (two commas in a row, or a trailing "
                f"comma); expected TERM:WEIGHT entries, e.g. {MIX_EXAMPLE!r}"
            )
        term, sep, weight_text = entry.rpartition(":")
        if not sep or not term.strip():
            raise LoadError(
                f"--policy-mix entry {entry!r} is not TERM:WEIGHT; write e.g. 'night:0.9' "
                f"(the whole mix like {MIX_EXAMPLE!r})"
            )
        try:
            weight = float(weight_text)
        except ValueError:
            weight = math.nan
        if not (math.isfinite(weight) and weight > 0):
            raise LoadError(
                f"--policy-mix entry {entry!r}: the weight {weight_text.strip()!r} is not a "
                "positive number; weights are relative, e.g. 0.9 and 0.1, or 9 and 1"
            )
        parts = [p.strip() for p in term.split("+")]
        for part in parts:
            if part != _NONE and part not in _GROUPS and part not in codes:
                names = [_NONE, *_GROUPS, *codes]
                raise LoadError(
                    f"--policy-mix entry {entry!r}: unknown group or policy {part!r}; "
                    f"{_suggest(part, names)}use night, hourly, none, or a policy code of the "
                    f"load template ({', '.join(codes)})"
                )
        if _NONE in parts and len(parts) > 1:
            raise LoadError(
                f"--policy-mix entry {entry!r}: 'none' means no backup at all and cannot be "
                "combined with other parts; give it its own entry, e.g. 'none:0.05'"
            )
        expanded: list[str] = []
        for part in parts:
            for code in _GROUPS.get(part, () if part == _NONE else (part,)):
                if code in expanded:
                    raise LoadError(
                        f"--policy-mix entry {entry!r}: policy {code} appears twice in one "
                        "term ('night' already holds every DAILY policy of the window)"
                    )
                expanded.append(code)
        key = tuple(sorted(parts))
        if key in seen_terms:
            raise LoadError(
                f"--policy-mix: the term {term.strip()!r} appears twice ({seen_terms[key]!r} and "
                f"{entry!r}); merge them into one entry by adding their weights"
            )
        seen_terms[key] = entry
        if "night" in parts:
            rest = tuple(c for c in expanded if c not in NIGHT_POLICIES)
            share = weight / len(NIGHT_POLICIES)
            out.extend(((nightly, *rest), share) for nightly in NIGHT_POLICIES)
        else:
            out.append((tuple(expanded), weight))
    return tuple(out)


# ---------------------------------------------------------------------- scenario


def default_datacenters(vms: int) -> int:
    """The datacenters ``bpcert load`` spreads ``vms`` over: at most 25,000 VMs in each."""
    return max(1, math.ceil(vms / VMS_PER_DATACENTER))


def _check_days_and_delay(days: float | None, check_delay_s: float | None) -> None:
    """Refuse a duration or check delay that is not a positive number (None: not given)."""
    if days is not None and not (math.isfinite(days) and days > 0):
        raise LoadError(f"--days must be a positive number of simulated days, got {days!r}")
    if check_delay_s is not None and not (math.isfinite(check_delay_s) and check_delay_s > 0):
        raise LoadError(
            f"--check-delay must be a positive number of seconds (Abiquo's default is 600), "
            f"got {check_delay_s!r}"
        )


def build_load_scenario(
    vms: int,
    days: float,
    *,
    check_delay_s: float = 600.0,
    policy_mix: str | None = None,
    seed: int | None = None,
    latency: ScenarioLatency = "measured",
    latency_factor: float = 1.0,
    datacenters: int | None = None,
) -> Scenario:
    """The load template with the fleet, duration, check delay, mix, seed and latency given.

    The share of VMs deployed at the start and the workload per VM are the template's:
    its rates (per day, for its 5,000 VMs) are scaled to ``vms``. The VMs are spread
    over ``datacenters`` (default :func:`default_datacenters`), each with a backup
    manager of its own when there are several. Raises :class:`LoadError` for values
    that cannot make a scenario.
    """
    if isinstance(vms, bool) or not isinstance(vms, int) or vms < 1:
        raise LoadError(f"--vms must be a whole number of VMs >= 1, got {vms!r}")
    if datacenters is None:
        datacenters = default_datacenters(vms)
    if isinstance(datacenters, bool) or not isinstance(datacenters, int) or datacenters < 1:
        raise LoadError(f"--datacenters must be a whole number >= 1, got {datacenters!r}")
    if datacenters > vms:
        raise LoadError(
            f"--datacenters ({datacenters}) must not exceed --vms ({vms}): "
            "every datacenter needs at least one VM"
        )
    _check_days_and_delay(days, check_delay_s)
    if latency not in ("measured", "fixed"):
        raise LoadError(f"--latency must be 'measured' or 'fixed', got {latency!r}")
    if not (math.isfinite(latency_factor) and latency_factor > 0):
        raise LoadError(f"--latency-factor must be a positive number, got {latency_factor!r}")
    base = load_scenario(LOAD_TEMPLATE)
    data = base.model_dump()
    template_vms = base.fleet.vms
    share = base.fleet.deployed_initially / template_vms
    data["name"] = f"load-{vms}-vms"
    data["description"] = (
        f"bpcert load: {vms} VMs for {days:g} days, a check every {check_delay_s:g} s "
        f"({LOAD_TEMPLATE} shape)"
    )
    if seed is not None:
        data["seed"] = seed
    data["duration"] = days * DAY_S
    data["fleet"]["vms"] = vms
    data["fleet"]["datacenters"] = datacenters
    data["fleet"]["backup_managers"] = "per-datacenter" if datacenters > 1 else "one"
    data["fleet"]["deployed_at_start"] = min(vms, round(vms * share))
    if policy_mix is not None:
        codes = [p.code for p in base.policies]
        data["fleet"]["policy_mix"] = [
            {"policies": list(policies), "weight": weight}
            for policies, weight in parse_policy_mix(policy_mix, codes)
        ]
    scale = vms / template_vms
    data["workload"]["rates"] = {k: v * scale for k, v in data["workload"]["rates"].items()}
    data["platform"]["check_delay"] = check_delay_s
    if latency == "measured":
        data["latency"]["mode"] = "measured"
        data["latency"]["factor"] = latency_factor
    return Scenario.model_validate(data)


def scenario_for_load(
    ref: str,
    *,
    days: float | None = None,
    check_delay_s: float | None = None,
    seed: int | None = None,
) -> Scenario:
    """A built-in scenario (by name) or a YAML file, to run as a load run as it stands.

    ``days``, ``check_delay_s`` and ``seed`` replace the scenario's duration, check
    delay and seed when given; everything else (fleet, datacenters, policies,
    workload, latency) is the scenario's. A malformed file raises
    :class:`~simulator.scenario.ScenarioError` naming its line and field; a value that
    cannot make a scenario raises :class:`LoadError`.
    """
    _check_days_and_delay(days, check_delay_s)
    base = load_scenario(ref)
    # A job carries the scenario's own values back here; those are no change.
    if days is not None and math.isclose(days * DAY_S, base.duration, rel_tol=1e-12):
        days = None
    if check_delay_s is not None and check_delay_s == base.platform.check_delay:
        check_delay_s = None
    if seed is not None and seed == base.seed:
        seed = None
    if days is None and check_delay_s is None and seed is None:
        return base
    data = base.model_dump()
    if days is not None:
        data["duration"] = days * DAY_S
    if check_delay_s is not None:
        data["platform"]["check_delay"] = check_delay_s
    if seed is not None:
        data["seed"] = seed
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        # e.g. a scripted event of the scenario that a shorter --days leaves out
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise LoadError(
            f"scenario {ref!r} cannot run with the values given: "
            + (f"{where}: {message}" if where else message)
        ) from None
