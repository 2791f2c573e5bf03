"""A pytest plugin: ``pytest --bpcert-plugin=SPEC`` makes every rule a test item.

A vendor puts conformance into their own suite with one option::

    pytest --bpcert-plugin=my_vendor.plugin:VeeamPlugin
    pytest --bpcert-plugin=reference --bpcert-rules='polling.*' --bpcert-examples=0

The conformance run happens once, when the first rule item runs; each item then
passes, fails with the rule's findings and evidence, or is skipped with the rule's
reason. A required rule that no scenario exercised, with no declaration saying why
(``not exercised: ...``), fails: it is never a pass, and a skip would let a CI job go
green on a run that could not judge it. When such rules are the session's only
failures, pytest exits 2, as ``bpcert check`` does for an ``incomplete`` run; any other
failure keeps pytest's 1. Without ``--bpcert-plugin`` the plugin adds nothing. It is
registered through the ``pytest11`` entry point and imports bpcert's machinery only
when asked to.
"""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["RuleItem"]

#: The user property a rule item that was not exercised carries onto its report, so
#: that the session (also pytest-xdist's controller) can tell it from a finding.
NOT_EXERCISED_PROPERTY = "bpcert_not_exercised"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--bpcert-*`` options."""
    group = parser.getgroup("bpcert", "Abiquo backup plugin conformance (bpcert)")
    group.addoption(
        "--bpcert-plugin",
        default=None,
        help="judge this plugin (an installed name, module:Class, exec:COMMAND or jar:PLUGIN.jar)",
    )
    group.addoption("--bpcert-rules", action="append", default=[], help="only rules matching GLOB")
    group.addoption("--bpcert-skip", action="append", default=[], help="skip rules matching GLOB")
    group.addoption(
        "--bpcert-scenario",
        action="append",
        default=[],
        help="scenarios to run instead of the default set (repeatable)",
    )
    group.addoption("--bpcert-examples", type=int, default=5, help="property-based examples")
    group.addoption("--bpcert-seed", type=int, default=None, help="override scenario seeds")
    group.addoption(
        "--bpcert-isolation",
        default="in-process",
        choices=("in-process", "process"),
        help="serve a Python plugin from a child process",
    )
    group.addoption(
        "--bpcert-profile",
        default=None,
        help="the contract profile: abiquo-4.0.4, abiquo-4.7 or abiquo-6.0 (default: the "
        "newest the plugin declares)",
    )


class _Run:
    """The one conformance run of a pytest session, done lazily."""

    def __init__(self, config: pytest.Config, plugin: Any = None) -> None:
        self.config = config
        #: The plugin, loaded once at collection (its profile decides which rules apply).
        self.plugin = plugin
        self.report: Any = None
        self.error: BaseException | None = None

    def get(self) -> Any:
        if self.report is None and self.error is None:
            from conformance.properties.stateful import property_sinks
            from conformance.runner import DEFAULT_SCENARIOS, run

            opt = self.config.getoption
            examples = int(opt("--bpcert-examples"))
            seed = opt("--bpcert-seed")
            try:
                profile = opt("--bpcert-profile")
                self.report = run(
                    self.plugin or opt("--bpcert-plugin"),
                    scenarios=opt("--bpcert-scenario") or list(DEFAULT_SCENARIOS),
                    rules=opt("--bpcert-rules"),
                    skip=opt("--bpcert-skip"),
                    examples=examples,
                    seed=seed,
                    isolation=opt("--bpcert-isolation"),
                    extra_sinks=lambda p, s: property_sinks(p, examples, s, None, profile=profile),
                    profile=profile,
                )
            except Exception as exc:  # noqa: BLE001 - reported on every rule item
                self.error = exc
        if self.error is not None:
            raise self.error
        return self.report


class RuleItem(pytest.Item):
    """One rule of the contract as a test item."""

    def __init__(self, *, rule_id: str, statement: str, run: _Run, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rule_id = rule_id
        self.statement = statement
        self._run = run

    def runtest(self) -> None:
        """Pass, fail with the findings, fail as not exercised, or skip with the reason."""
        report = self._run.get()
        result = next(r for r in report.rules if r.id == self.rule_id)
        # An advisory rule never decides a verdict, so its not-exercised stays a skip.
        if result.not_exercised and not result.advisory:
            self.user_properties.append((NOT_EXERCISED_PROPERTY, self.rule_id))
            raise RuleNotExercised(result)
        if result.status == "skip":
            pytest.skip(f"{self.rule_id}: {result.reason or 'skipped'}")
        if result.status != "pass":
            raise RuleFailed(result)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        """The findings with their evidence and replay command."""
        if isinstance(excinfo.value, RuleFailed):
            return excinfo.value.describe()
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        """Where the item comes from, for pytest's output."""
        return "bpcert", None, f"{self.rule_id}: {self.statement}"


class RuleFailed(Exception):
    """A rule failed; carries its result for the failure report."""

    def __init__(self, result: Any) -> None:
        super().__init__(result.id)
        self.result = result

    def describe(self) -> str:
        """Findings, expected/actual, calls and the replay command, as text."""
        r = self.result
        lines = [f"{r.id}: {r.statement}", f"{r.findings_total} finding(s):"]
        for f in r.findings[:5]:
            lines.append(f"  - [{f.scenario}] {f.message}")
            if f.expected or f.actual:
                lines.append(f"    expected: {f.expected}    actual: {f.actual}")
            for call in f.evidence[:3]:
                lines.append(f"    call: {call}")
            if f.replay:
                lines.append(f"    replay: {f.replay}")
        return "\n".join(lines)


class RuleNotExercised(RuleFailed):
    """A required rule no run exercised, with no declaration saying why: it fails too."""

    def describe(self) -> str:
        """The rule, its ``not exercised: ...`` reason, and what to do about it."""
        r = self.result
        return "\n".join(
            [
                f"{r.id}: {r.statement}",
                str(r.reason),
                "A required rule that no run exercised is never a pass: `bpcert check` calls "
                "this run incomplete (exit 2). Run scenarios that exercise it (the default "
                "set, without --bpcert-scenario), or leave the rule out with --bpcert-skip.",
            ]
        )


class _Outcome:
    """The session's exit status as ``bpcert check`` would give it: 2 (incomplete) when
    the only failures are required rules that were not exercised."""

    def __init__(self) -> None:
        self.not_exercised: list[str] = []
        self.session: pytest.Session | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Keep the session, whose failure count the summary compares with ours."""
        self.session = session

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count the failed items that failed only for not being exercised."""
        if report.failed and any(k == NOT_EXERCISED_PROPERTY for k, _ in report.user_properties):
            self.not_exercised.append(report.nodeid)

    def _incomplete(self) -> bool:
        failed = self.session.testsfailed if self.session is not None else 0
        return bool(self.not_exercised) and failed == len(self.not_exercised)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Name how many required rules were not exercised, and say when that alone makes
        the session fail (exit 2: pytest's own 2 is an interrupted session, this line tells
        the two apart)."""
        if self.not_exercised:
            head = f"bpcert: {len(self.not_exercised)} required rule(s) not exercised"
            tail = ": the check is incomplete (exit 2)" if self._incomplete() else ""
            terminalreporter.write_line(head + tail)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Exit 2 instead of 1 when nothing but unexercised rules failed."""
        from conformance.exit_codes import ExitCode

        if exitstatus == pytest.ExitCode.TESTS_FAILED and self._incomplete():
            session.exitstatus = int(ExitCode.INCOMPLETE)


def pytest_configure(config: pytest.Config) -> None:
    """Register the session outcome when ``--bpcert-plugin`` is given."""
    if config.getoption("--bpcert-plugin"):
        config.pluginmanager.register(_Outcome(), "bpcert-outcome")


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Append one item per selected rule when ``--bpcert-plugin`` is given."""
    spec = config.getoption("--bpcert-plugin")
    if not spec:
        return
    from conformance.rules import select_rules
    from conformance.rules.registry import rules_for
    from conformance.runner import profile_of, resolve_plugin
    from conformance.usage import UsageError
    from simulator.bridge.loader import PluginSpecError

    try:
        plugin = resolve_plugin(spec, isolation=config.getoption("--bpcert-isolation"))
        profile = profile_of(plugin, config.getoption("--bpcert-profile"))
    except (UsageError, PluginSpecError) as exc:
        raise pytest.UsageError(f"--bpcert-plugin {spec}: {exc}") from None
    applicable = {r.id for r in rules_for(profile)}
    run = _Run(config, plugin)
    selected = select_rules(config.getoption("--bpcert-rules"), config.getoption("--bpcert-skip"))
    for rule in (r for r in selected if r.id in applicable):
        items.append(
            RuleItem.from_parent(
                session, name=rule.id, rule_id=rule.id, statement=rule.statement, run=run
            )
        )
