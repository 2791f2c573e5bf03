"""The ``bpcert`` command line, black-box: exit codes, messages, files written."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance.cli import main
from conformance.exit_codes import ExitCode
from reports.schema import report_json_schema, strip_wall_time

ROOT = Path(__file__).resolve().parent.parent


def bpcert(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a child process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=timeout,
        check=False,
    )


def test_an_unknown_plugin_is_a_usage_error_listing_installed_ones_and_close_matches() -> None:
    result = bpcert("run", "smoke", "--plugin", "refernce", "--quiet", "--out", "/tmp/x")
    assert result.returncode == ExitCode.USAGE
    assert "Installed plugins: reference" in result.stderr
    assert "Did you mean 'reference'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_module_that_does_not_exist_is_a_usage_error() -> None:
    result = bpcert("run", "smoke", "--plugin", "no_such_vendor.plugin:Plugin", "--quiet")
    assert result.returncode == ExitCode.USAGE
    assert "no_such_vendor.plugin" in result.stderr


class MissingList:
    """A plugin class without list_results and with a wrong execute_backup signature."""


def test_a_class_missing_a_method_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "vendor_missing.py").write_text(
        "from simulator.reference import ReferencePlugin\n"
        "class Broken(ReferencePlugin):\n"
        "    list_results = None\n"
        "    def execute_backup(self, connection, vm):\n"
        "        return None\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "conformance", "check", "--plugin", "vendor_missing:Broken"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "list_results" in result.stderr
    assert "execute_backup takes (connection, vm)" in result.stderr


@pytest.mark.parametrize("launcher", ["script", "module"])
def test_a_plugin_module_in_the_working_directory_loads_through_the_script_and_python_m(
    tmp_path: Path, launcher: str
) -> None:
    # python -m puts the working directory on sys.path; the console script must too, or
    # `--plugin vendor_here:Plugin` works one way and not the other.
    (tmp_path / "vendor_here.py").write_text(
        "from simulator.reference import ReferencePlugin\n"
        "class Plugin(ReferencePlugin):\n"
        "    pass\n"
    )
    (tmp_path / "blink.yaml").write_text("name: blink\nduration: 1s\nfleet:\n  vms: 2\n")
    program = (
        [str(Path(sys.executable).parent / "bpcert")]
        if launcher == "script"
        else [sys.executable, "-m", "conformance"]
    )
    result = subprocess.run(
        [*program, "run", "blink.yaml", "--plugin", "vendor_here:Plugin", "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        timeout=300,
        check=False,
    )
    assert result.returncode == ExitCode.OK, result.stderr
    # One second exercises few rules: a run of one scenario then says "completed".
    assert "verdict: completed" in result.stdout


def test_a_malformed_scenario_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nduration: 1d\nfleet:\n  vms: 3\nplatform:\n  chek_delay: 10m\n")
    result = bpcert("run", str(bad), "--quiet")
    assert result.returncode == ExitCode.USAGE
    assert f"{bad}:6" in result.stderr
    assert "platform.chek_delay" in result.stderr
    assert "check_delay" in result.stderr


def test_an_unknown_builtin_scenario_lists_the_builtins() -> None:
    result = bpcert("run", "smok", "--quiet")
    assert result.returncode == ExitCode.USAGE
    assert "smoke" in result.stderr


def test_bad_flags_are_usage_errors() -> None:
    assert bpcert("check", "--examples", "lots").returncode == ExitCode.USAGE
    assert bpcert("frobnicate").returncode == ExitCode.USAGE


def test_schema_prints_valid_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == ExitCode.OK
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)


def _report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text())
    return data


def test_run_writes_every_report_file_and_the_same_seed_gives_the_same_report(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        assert main(["run", "smoke", "--quiet", "--seed", "5", "--out", str(out)]) == ExitCode.OK
    for name in ("report.json", "junit.xml", "report.html", "summary.md", "trace.jsonl"):
        assert (first / name).is_file(), name
    assert list((first / "plots").glob("*.png"))
    jsonschema.validate(_report(first), report_json_schema())
    assert strip_wall_time(_report(first)) == strip_wall_time(_report(second))
    assert (first / "trace.jsonl").read_bytes() == (second / "trace.jsonl").read_bytes()
    replay = shlex.split(_report(first)["replay"])
    assert Path(replay[0]).name == "bpcert"
    assert replay[1:] == ["run", "smoke", "--plugin", "reference", "--seed", "5"]


def test_a_broken_plugin_gets_findings_with_evidence_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "vendor_broken.py").write_text(
        "from simulator.reference import ReferencePlugin\n"
        "class Broken(ReferencePlugin):\n"
        "    contract_profiles = ('abiquo-4.0.4',)  # its listResults is broken\n"
        "    def list_results(self, connection, last_check_date, ids):\n"
        "        if last_check_date is not None:\n"
        "            raise ValueError('boom')\n"
        "        return super().list_results(connection, last_check_date, ids)\n"
        "    def execute_backup(self, connection, vm, options):\n"
        "        return super().execute_backup(connection, vm, options).model_dump()\n"
        "    def get_expired_results(self, connection, ids):\n"
        "        return None\n"
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "smoke",
            "--plugin",
            "vendor_broken:Broken",
            "--quiet",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert "Traceback" not in result.stderr
    report = _report(out)
    failing = {r["id"]: r for r in report["rules"] if r["status"] == "fail"}
    assert "errors.only-backup-plugin-exception" in failing
    assert "errors.well-typed-returns" in failing
    finding = failing["errors.only-backup-plugin-exception"]["findings"][0]
    assert "ValueError: boom" in finding["message"]
    assert finding["evidence"] and finding["evidence"][0]["op"] == "listResults"
    assert " -m conformance run smoke --plugin vendor_broken:Broken" in finding["replay"]
    html = (out / "report.html").read_text()
    assert "errors.only-backup-plugin-exception" in html and "ValueError: boom" in html
    junit = (out / "junit.xml").read_text()
    assert "<failure" in junit and "ValueError: boom" in junit


@pytest.mark.parametrize(
    ("script", "rule"),
    [
        ("hang.py", "errors.returns-within-deadline"),
        ("crash.py", "errors.no-crash"),
        ("garbage.py", "protocol.stdout-clean"),
        ("wrong_types.py", "errors.well-typed-returns"),
    ],
)
def test_misbehaving_process_plugins_get_findings_without_hanging_the_run(
    tmp_path: Path, script: str, rule: str
) -> None:
    plugin = f"exec:{sys.executable} {ROOT / 'examples' / 'misbehaving' / script}"
    out = tmp_path / "out"
    result = bpcert(
        "run",
        "smoke",
        "--plugin",
        plugin,
        "--call-timeout",
        "2",
        "--quiet",
        "--out",
        str(out),
        timeout=240,
    )
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    failing = {r["id"] for r in _report(out)["rules"] if r["status"] == "fail"}
    assert rule in failing


def test_a_plugin_message_with_undecodable_bytes_is_reported_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The message holds a lone surrogate, which strict UTF-8 refuses: every file of the
    # run must still be written, and report.json must read back with the message in it.
    plugin = "tests.plugins.undecodable_message:UndecodableMessage"
    args = ["run", "on-demand", "--plugin", plugin, "--quiet", "--out", str(tmp_path)]
    assert main(args) in (ExitCode.OK, ExitCode.FINDINGS)
    assert "Traceback" not in capsys.readouterr().err
    for name in ("trace.jsonl", "report.json", "report.html", "junit.xml", "summary.md"):
        assert (tmp_path / name).is_file(), name
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert "backup tool said: \udce9chec" in json.dumps(report, ensure_ascii=False)
    trace = (tmp_path / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    details = [json.loads(line).get("detail") or "" for line in trace]
    assert any("backup tool said: \udce9chec" in detail for detail in details)
