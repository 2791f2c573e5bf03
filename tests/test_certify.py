"""``bpcert certify`` and ``bpcert verify``, black-box: bundles, hashes, tampering, verdicts."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from conformance.exit_codes import ExitCode
from conformance.guidelines import DEFAULT_PROFILE, guidelines
from conformance.rules import RULES
from simulator.profiles import get_profile

ROOT = Path(__file__).resolve().parent.parent


def _bpcert(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=1200,
        check=False,
    )


def _manifest(bundle: Path) -> dict[str, Any]:
    with tarfile.open(bundle) as tar:
        handle = tar.extractfile("manifest.json")
        assert handle is not None
        data: dict[str, Any] = json.load(handle)
    return data


def _rewrite(bundle: Path, name: str, change: Any) -> None:
    """Rewrite one member of ``bundle`` with ``change(bytes) -> bytes``, the rest as it was."""
    with tarfile.open(bundle) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar]  # type: ignore[union-attr]
    with tarfile.open(bundle, "w:gz") as tar:
        for member, data in members:
            if member.name == name:
                data = change(data)
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))


@pytest.fixture(scope="module")
def vendor_plugin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A vendor's plugin module, certified on one scenario: (its directory, run dir, bundle)."""
    home = tmp_path_factory.mktemp("vendor")
    (home / "vendor_plugin.py").write_text(
        "from simulator.reference import ReferencePlugin\n"
        "class VendorPlugin(ReferencePlugin):\n"
        '    """The vendor\'s plugin: the reference under another name."""\n'
    )
    out, bundle = home / "out" / "certify", home / "out" / "certify.tar.gz"
    result = _bpcert(
        *("certify", "--plugin", "vendor_plugin:VendorPlugin", "--scenario", "smoke"),
        *("--examples", "0", "--quiet", "--out", str(out), "--bundle", str(bundle)),
        cwd=home,
        env={**os.environ, "PYTHONPATH": f"{home}{os.pathsep}{ROOT}"},
    )
    # A partial check (one scenario) is never certified, but it is a whole bundle.
    assert result.returncode == ExitCode.FINDINGS, result.stdout + result.stderr
    assert "NOT certified" in result.stdout and "partial" in result.stdout
    return home, out, bundle


def _verify(home: Path, bundle: Path) -> Any:
    return _bpcert(
        "verify",
        str(bundle),
        "--quiet",
        cwd=home,
        env={**os.environ, "PYTHONPATH": f"{home}{os.pathsep}{ROOT}"},
    )


def test_the_bundle_holds_the_run_and_a_manifest_of_every_file_and_the_plugin(
    vendor_plugin: tuple[Path, Path, Path],
) -> None:
    _, _, bundle = vendor_plugin
    manifest = _manifest(bundle)
    with tarfile.open(bundle) as tar:
        names = {m.name for m in tar if m.isfile()}
    assert names == {"manifest.json", *manifest["files"]}
    assert {"run/report.json", "run/junit.xml", "run/report.html"} <= names
    assert manifest["plugin"]["isolation"] == "process"
    assert [f["path"] for f in manifest["plugin"]["files"]] == ["vendor_plugin.py"]
    # The reference's newest profile: the one the check ran, and whose guideline judged it.
    assert manifest["profile"] == "abiquo-6.0"
    assert manifest["guideline"]["version"] == guidelines()["abiquo-6.0"].version
    assert manifest["run"]["scenario_seeds"] == {"smoke": 1}
    assert {"python", "platform"} <= set(manifest["environment"])
    assert manifest["bpcert_version"]


def test_verify_rechecks_hashes_and_reruns_the_recorded_seeds(
    vendor_plugin: tuple[Path, Path, Path],
) -> None:
    home, _, bundle = vendor_plugin
    result = _verify(home, bundle)
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert "same verdict and findings" in " ".join(result.stdout.split())


def test_a_changed_byte_in_a_bundle_file_fails_verify_naming_the_file(
    vendor_plugin: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    home, _, bundle = vendor_plugin
    tampered = tmp_path / "tampered.tar.gz"
    tampered.write_bytes(bundle.read_bytes())
    _rewrite(tampered, "run/report.json", lambda b: b.replace(b'"fail"', b'"pass"', 1) + b" ")
    result = _verify(home, tampered)
    assert result.returncode == ExitCode.FINDINGS, result.stdout
    assert "run/report.json has changed since the bundle was made" in " ".join(
        result.stdout.split()
    )


def test_a_changed_plugin_file_fails_verify_and_says_so(
    vendor_plugin: tuple[Path, Path, Path],
) -> None:
    home, _, bundle = vendor_plugin
    module = home / "vendor_plugin.py"
    original = module.read_text()
    module.write_text(original + "# a fix made after certification\n")
    try:
        result = _verify(home, bundle)
    finally:
        module.write_text(original)
    assert result.returncode == ExitCode.FINDINGS, result.stdout
    assert "the plugin file vendor_plugin.py has changed" in " ".join(result.stdout.split())


def test_a_file_that_is_not_a_bundle_is_a_usage_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball")
    result = _bpcert("verify", str(junk))
    assert result.returncode == ExitCode.USAGE
    assert "junk.tar.gz" in result.stderr and "Traceback" not in result.stderr


def test_a_failing_required_rule_is_never_certified(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _bpcert(
        *("certify", "--plugin", "conformance.selftest.mutants:DuplicateIdsPlugin"),
        *("--scenario", "smoke", "--examples", "0", "--quiet", "--out", str(out)),
    )
    assert result.returncode == ExitCode.FINDINGS
    assert "required rule failed: polling.unique-ids-per-answer" in result.stdout
    assert _manifest(tmp_path / "out.tar.gz")["verdict"]["certified"] is False


def test_every_guideline_names_registered_rules_and_lists_each_rule_once() -> None:
    ids = {r.id for r in RULES}
    for profile, guideline in guidelines().items():
        listed = [*guideline.required, *guideline.advisory, *guideline.conditional]
        assert set(listed) <= ids, (profile, set(listed) - ids)
        assert len(listed) == len(set(listed)), profile
        assert guideline.changelog[0].version == guideline.version
        # Every rule that applies under the profile is in its guideline.
        applies = {
            r.id for r in RULES if get_profile(profile).applies(getattr(r, "capability", None))
        }
        assert applies <= set(listed), (profile, applies - set(listed))


def test_an_unknown_profile_has_no_guideline_and_is_a_usage_error() -> None:
    result = _bpcert("certify", "--plugin", "reference", "--profile", "abiquo-9", "--quiet")
    assert result.returncode == ExitCode.USAGE
    assert DEFAULT_PROFILE in result.stderr
