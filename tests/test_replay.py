"""Replays, as a vendor meets them: each printed line runs as printed and finds its bug again."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from conformance.cli import main
from conformance.exit_codes import ExitCode
from tests.plugins.configured_bug import BUG_PROPERTY

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "tests.plugins.configured_bug:RestoresLatestWhenConfigured"


def _shell(words: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(words, capture_output=True, text=True, cwd=cwd, timeout=600, check=False)


def _bpcert(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m conformance ARGS`` from the project root, as a user would type it."""
    return _shell([sys.executable, "-m", "conformance", *args])


def _report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text())
    return data


def _failing(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in report["rules"] if r["status"] == "fail"}


def test_every_printed_finding_replay_names_its_scenario_and_reproduces_the_finding(
    tmp_path: Path,
) -> None:
    # The bug shows only with the user's properties file: a replay that drops
    # --properties (or names another scenario) passes, and so does not reproduce it.
    props = tmp_path / "vendor.properties"
    props.write_text(
        f"reference.timeout.seconds=30\nreference.replication.enabled=true\n{BUG_PROPERTY}=latest\n"
    )
    out = tmp_path / "check"
    checked = _bpcert(
        *("check", "--plugin", PLUGIN, "--properties", str(props)),
        *("--call-timeout", "30", "--seed", "3", "--examples", "0", "--quiet", "--out", str(out)),
    )
    assert checked.returncode == ExitCode.FINDINGS, checked.stderr
    failing = _failing(_report(out))
    assert "data.restore-integrity" in failing
    # A finding per scenario that found one: the sample covers every scenario.
    sample: dict[str, tuple[str, dict[str, Any]]] = {}
    for rule_id, rule in failing.items():
        for finding in rule["findings"]:
            sample.setdefault(finding["scenario"], (rule_id, finding))
    assert len(sample) >= 3, sample.keys()
    for scenario, (rule_id, finding) in sorted(sample.items()):
        words = shlex.split(finding["replay"])
        assert words[words.index("run") + 1] == scenario, finding["replay"]
        for flag in ("--properties", "--call-timeout", "--seed"):
            assert flag in words, (flag, finding["replay"])
        again = tmp_path / f"again-{rule_id}-{scenario}"
        replayed = _shell([*words, "--quiet", "--out", str(again)])
        assert replayed.returncode == ExitCode.FINDINGS, (finding["replay"], replayed.stderr)
        found = _failing(_report(again)).get(rule_id)
        assert found is not None, (finding["replay"], "passes")
        assert (finding["message"], finding["at"]) in {
            (f["message"], f["at"]) for f in found["findings"]
        }, finding["replay"]


def test_the_run_replay_starts_with_a_program_that_exists_and_carries_every_flag(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    code = main(
        ["run", "smoke", "--quiet", "--seed", "5", "--call-timeout", "7", "--out", str(out)]
    )
    assert code == ExitCode.OK
    words = shlex.split(_report(out)["replay"])
    assert Path(words[0]).is_file(), words[0]
    assert words[1:] == [
        "run",
        "smoke",
        "--plugin",
        "reference",
        "--call-timeout",
        "7",
        "--seed",
        "5",
    ]


def test_a_rules_glob_that_matches_nothing_is_a_usage_error_suggesting_close_ids() -> None:
    result = _bpcert(
        "check", "--rules", "polling.uniq-ids*", "--examples", "0", "--quiet", "--out", "/tmp/x"
    )
    assert result.returncode == ExitCode.USAGE, result.stdout
    assert "'polling.uniq-ids*'" in result.stderr
    assert "polling.unique-ids-per-answer" in result.stderr
    assert "conformant" not in result.stdout


def test_one_mistyped_glob_among_several_is_still_a_usage_error() -> None:
    assert (
        main(["check", "--rules", "polling.*", "--rules", "expiry.stiky", "--examples", "0"])
        == ExitCode.USAGE
    )


def test_a_skip_that_hides_every_rule_is_a_usage_error(tmp_path: Path) -> None:
    result = _bpcert(
        *("check", "--rules", "polling.*", "--skip", "polling.*"),
        *("--examples", "0", "--quiet", "--out", str(tmp_path)),
    )
    assert result.returncode == ExitCode.USAGE, result.stdout
    assert "--skip 'polling.*'" in result.stderr
    assert "conformant" not in result.stdout


def test_a_properties_file_lacking_a_required_key_is_a_usage_error_naming_file_and_key(
    tmp_path: Path,
) -> None:
    props = tmp_path / "missing.properties"
    props.write_text("reference.timeout.seconds=30\n")
    for isolation in ("in-process", "process"):
        result = _bpcert(
            *("check", "--properties", str(props), "--isolation", isolation),
            *("--examples", "0", "--quiet", "--out", str(tmp_path / isolation)),
        )
        assert result.returncode == ExitCode.USAGE, (isolation, result.stdout)
        message = " ".join(result.stderr.split())
        # The console may wrap a long path anywhere, even inside a word.
        assert str(props) in "".join(message.split())
        assert "reference.replication.enabled" in message
        assert "complete example properties" not in message
        assert "Traceback" not in result.stderr


def _as_printed(path: Path) -> str:
    """``path`` as a replay printed from the project root names it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _script() -> str:
    """The ``bpcert`` console script of this environment, as a user in the root types it."""
    return _as_printed(Path(sys.executable).parent / "bpcert")


def test_a_replay_under_a_non_default_profile_names_it_and_reproduces_the_finding(
    tmp_path: Path,
) -> None:
    # The plugin declares every profile; its bug is in list_results, which only
    # abiquo-4.0.4 calls. A replay without --profile runs abiquo-6.0 and passes.
    plugin = "tests.plugins.profile_bug:DuplicatesUnder404"
    out = tmp_path / "check"
    checked = _shell(
        [
            *(_script(), "check", "--plugin", plugin, "--profile", "abiquo-4.0.4"),
            *("--scenario", "smoke", "--examples", "0", "--quiet", "--out", str(out)),
        ]
    )
    assert checked.returncode == ExitCode.FINDINGS, checked.stderr
    report = _report(out)
    assert report["profile"] == "abiquo-4.0.4"
    assert shlex.split(report["replay"])[0] == _script()
    finding = _failing(report)["polling.unique-ids-per-answer"]["findings"][0]
    words = shlex.split(finding["replay"])
    for replay in (words, shlex.split(report["replay"])):
        assert replay[replay.index("--profile") + 1] == "abiquo-4.0.4", replay
    again = tmp_path / "again"
    replayed = _shell([*words, "--quiet", "--out", str(again)])
    assert replayed.returncode == ExitCode.FINDINGS, replayed.stderr
    found = _failing(_report(again))["polling.unique-ids-per-answer"]["findings"]
    assert (finding["message"], finding["at"]) in {(f["message"], f["at"]) for f in found}
    # The flag is what reproduces it: the same line without it is another profile's run.
    i = words.index("--profile")
    newest = _shell([*words[:i], *words[i + 2 :], "--quiet", "--out", str(tmp_path / "newest")])
    assert newest.returncode == ExitCode.OK, newest.stdout
    assert _report(tmp_path / "newest")["profile"] == "abiquo-6.0"


def test_a_load_replay_starts_with_the_launcher_and_runs_the_same_load_again(
    tmp_path: Path,
) -> None:
    props = tmp_path / "vendor.properties"
    props.write_text("reference.timeout.seconds=20\nreference.replication.enabled=true\n")
    out = tmp_path / "load"
    loaded = _shell(
        [
            *(_script(), "load", "--vms", "40", "--days", "0.25", "--latency", "fixed"),
            *("--profile", "abiquo-4.7", "--call-timeout", "7", "--properties", str(props)),
            *("--seed", "4", "--quiet", "--out", str(out)),
        ]
    )
    assert loaded.returncode == ExitCode.OK, loaded.stderr
    words = shlex.split(_report(out)["replay"])
    assert words[:2] == [_script(), "load"], words
    for flag, value in (
        ("--profile", "abiquo-4.7"),
        ("--call-timeout", "7"),
        ("--properties", str(props)),
        ("--seed", "4"),
    ):
        assert words[words.index(flag) + 1] == value, (flag, words)
    again = tmp_path / "again"
    replayed = _shell([*words, "--quiet", "--out", str(again)])
    assert replayed.returncode == ExitCode.OK, replayed.stderr
    assert (again / "trace.jsonl").read_bytes() == (out / "trace.jsonl").read_bytes()


def test_a_sweep_replay_starts_with_the_launcher_and_carries_every_flag(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    swept = _bpcert(
        *("sweep", "--vms", "20,40", "--days", "0.25", "--latency", "fixed", "--seeds", "2"),
        *("--profile", "abiquo-4.7", "--call-timeout", "7", "--workers", "0", "--quiet"),
        *("--out", str(out)),
    )
    assert swept.returncode == ExitCode.OK, swept.stderr
    report = _report(out)
    words = shlex.split(report["replay"])
    python = _as_printed(Path(sys.executable))
    assert words[:4] == [python, "-m", "conformance", "sweep"], words
    for flag, value in (("--profile", "abiquo-4.7"), ("--call-timeout", "7"), ("--seeds", "2")):
        assert words[words.index(flag) + 1] == value, (flag, words)
    again = tmp_path / "again"
    replayed = _shell([*words, "--workers", "0", "--quiet", "--out", str(again)])
    assert replayed.returncode == ExitCode.OK, replayed.stderr
    assert _report(again)["load"]["growth"] == report["load"]["growth"]
