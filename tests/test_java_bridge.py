"""Java plugin jars through the JVM bridge, black-box: ``bpcert ... --plugin jar:...``.

The jars are built once per session (``java_jars``): the example plugin by the command
``make java-example`` runs (``python -m simulator.bridge.jvm build``), a copy of its
abiquo-6.0 sources with one method wrong, and the broken copies of ``tests/java_plugins/``
by one more compilation, packed with their own services files. The bridge and API jars
come from the user's cache, built once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conformance.exit_codes import ExitCode
from simulator.bridge import jvm
from simulator.bridge.jvm import (
    POOL,
    build_jars,
    compile_classes,
    compile_plugin,
    jar_plugin_class,
    profile_source,
    write_jar,
)
from simulator.bridge.loader import PluginSpecError
from simulator.contract import OnDemandBackupOptions
from simulator.reference import REFERENCE_PROPERTIES, ReferencePlugin
from tests.test_cli import bpcert
from tests.test_isolation import DAILY, DAY, HOURLY_6, HOURLY_12, call, schedule, small_world

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "java-plugin"
TEST_PLUGINS = Path(__file__).resolve().parent / "java_plugins"
SERVICES = "META-INF/services/com.abiquo.backup.plugin.BackupScheduling"
TESTS_PACKAGE = "com.example.backup.tests."


def _pack(jar: Path, classes: Path, *, service: str | None, leave_out: str = "") -> Path:
    """A jar of ``classes`` (minus the files under ``leave_out``) naming ``service``."""
    stage = jar.with_suffix(".stage")
    shutil.copytree(
        classes,
        stage,
        ignore=lambda d, names: (
            [n for n in names if leave_out and (Path(d) / n).as_posix().endswith(leave_out)]
        ),
    )
    if service is not None:
        services = stage / SERVICES
        services.parent.mkdir(parents=True)
        services.write_text(service + "\n", encoding="utf-8")
    write_jar(jar, [stage])
    return jar


def _make_java_example(jar: Path, profile: str) -> Path:
    """The example jar of ``profile``, built by the command ``make java-example`` runs."""
    sources = [EXAMPLE / "common", EXAMPLE / profile]
    assert jvm.main(["build", str(jar), *map(str, sources), "--profile", profile]) == 0
    return jar


#: The abiquo-6.0 example with isBackupExpired true for every backup, live ones included.
EXPIRED_FOR_LIVE = (
    "abiquo-6.0/com/example/backup/CustomBackupPlugin.java",
    ".contains(backupId);",
    ".contains(backupId) || !backupId.isEmpty();",
)


def _mutant(stage: Path, path: str, old: str, new: str) -> Path:
    """The abiquo-6.0 example built from a copy of its sources with ``old`` replaced in ``path``."""
    shutil.copytree(EXAMPLE, stage, ignore=shutil.ignore_patterns("build"))
    source = stage / path
    text = source.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path} no longer holds {old!r} once"
    source.write_text(text.replace(old, new), encoding="utf-8")
    return compile_plugin(
        [stage / "common", stage / "abiquo-6.0"], stage / "plugin.jar", profile="abiquo-6.0"
    )


@pytest.fixture(scope="session")
def java_jars(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every jar the tests use, by name."""
    root = tmp_path_factory.mktemp("java")
    build_jars()  # once, before the compilations that use it run side by side
    with ThreadPoolExecutor(max_workers=2) as javacs:  # javac is a process: two cores
        built = {
            "example-4.0.4": javacs.submit(
                _make_java_example, root / "plugin-4.0.4.jar", "abiquo-4.0.4"
            ),
            "example-6.0": javacs.submit(_make_java_example, root / "plugin.jar", "abiquo-6.0"),
            "mutant-6.0": javacs.submit(_mutant, root / "mutant-6.0", *EXPIRED_FOR_LIVE),
            "classes": javacs.submit(
                compile_classes,
                [EXAMPLE / "common", EXAMPLE / "abiquo-4.0.4", TEST_PLUGINS / "plugins"],
                root / "classes",
                profile="abiquo-4.0.4",
            ),
            "mismatch": javacs.submit(
                compile_classes, [TEST_PLUGINS / "mismatch"], root / "mismatch-classes"
            ),
        }
        jars = {name: future.result() for name, future in built.items()}
    classes, mismatch = jars.pop("classes"), jars.pop("mismatch")
    shutil.copytree(EXAMPLE / "common" / "META-INF" / "bpcert", classes / "META-INF" / "bpcert")
    for name in ("Exiting", "Looping", "Expiring", "Throwing", "Sticky", "Threading"):
        jars[name] = _pack(root / f"{name}.jar", classes, service=f"{TESTS_PACKAGE}{name}Plugin")
    jars["missing-dependency"] = _pack(
        root / "dependent.jar",
        classes,
        service=f"{TESTS_PACKAGE}DependentPlugin",
        leave_out="com/example/sdk",
    )
    jars["no-services"] = _pack(root / "no-services.jar", classes, service=None)
    jars["missing-class"] = _pack(
        root / "missing-class.jar", classes, service="com.example.backup.CustomBackupPlugn"
    )
    jars["not-a-plugin"] = _pack(
        root / "not-a-plugin.jar", classes, service="com.example.backup.CustomBackupConnection"
    )
    too_new = root / "too-new"
    shutil.copytree(classes, too_new)
    plugin_class = too_new / "com" / "example" / "backup" / "CustomBackupPlugin.class"
    data = bytearray(plugin_class.read_bytes())
    data[6:8] = (99).to_bytes(2, "big")  # class file version 99: a Java far newer than 17
    plugin_class.write_bytes(bytes(data))
    jars["too-new"] = _pack(
        root / "too-new.jar", too_new, service="com.example.backup.CustomBackupPlugin"
    )
    merged = root / "mismatch"
    shutil.copytree(classes, merged)
    shutil.copytree(mismatch, merged, dirs_exist_ok=True)
    jars["mismatch"] = _pack(
        root / "mismatch.jar", merged, service="com.example.backup.CustomBackupPlugin"
    )
    not_a_jar = root / "not-a-jar.jar"
    not_a_jar.write_text("this is a text file, not a zip archive\n", encoding="utf-8")
    jars["not-a-jar"] = not_a_jar
    return jars


def _text(stream: str) -> str:
    """The CLI's output with its line wrapping undone."""
    return " ".join(stream.split())


def _report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return data


def _failing(out: Path) -> set[str]:
    return {r["id"] for r in _report(out)["rules"] if r["status"] == "fail"}


def _on_jar(
    command: str, jar: Path, out: Path, *flags: str, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """``bpcert COMMAND --plugin jar:JAR FLAGS --quiet --out OUT`` (``run`` takes smoke)."""
    head = ["run", "smoke"] if command == "run" else [command]
    return bpcert(
        *head, "--plugin", f"jar:{jar}", *flags, "--quiet", "--out", str(out), timeout=timeout
    )


def test_the_example_jar_is_conformant_under_abiquo_4_0_4(
    java_jars: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = _on_jar("check", java_jars["example-4.0.4"], out, "--examples", "2", timeout=1200)
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert "verdict: conformant" in result.stdout
    assert _report(out)["plugin"]["type"] == "java-example"


def test_the_example_jar_is_conformant_under_abiquo_6_0(
    java_jars: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = _on_jar(
        "check", java_jars["example-6.0"], out, "--profile", "abiquo-6.0", timeout=1200
    )
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert "verdict: conformant" in result.stdout
    report = _report(out)
    assert report["profile"] == "abiquo-6.0"
    assert {"per-id-polling.expired-when-removed", "policy-sync.members-exact"} <= {
        r["id"] for r in report["rules"] if r["status"] == "pass"
    }


@pytest.mark.parametrize(
    ("plugin", "flags", "rule"),
    [
        (
            "mutant-6.0",  # isBackupExpired true for a live backup
            ("--profile", "abiquo-6.0", "--rules", "per-id-polling.*"),
            "per-id-polling.expired-when-removed",
        ),
        (
            "Expiring",  # getExpiredResults returns every id it is asked about
            ("--rules", "expiry.*"),
            "expiry.live-never-reported",
        ),
    ],
)
def test_a_copy_of_the_example_reporting_live_backups_expired_fails_its_profile_s_expiry_rule(
    java_jars: dict[str, Path], tmp_path: Path, plugin: str, flags: tuple[str, ...], rule: str
) -> None:
    out = tmp_path / "out"
    result = _on_jar(
        "check", java_jars[plugin], out, *flags, "--scenario", "smoke", "--examples", "0"
    )
    assert result.returncode == ExitCode.FINDINGS, result.stdout + result.stderr
    assert _failing(out) == {rule}


def test_a_closed_instance_s_jvm_serves_the_next_one_with_nothing_of_it_left(
    java_jars: dict[str, Path],
) -> None:
    sticky = jar_plugin_class(str(java_jars["Sticky"]), label="sticky")
    properties = dict(getattr(sticky, "example_properties", {}))
    with small_world() as world:
        first = sticky(world.context("api", properties))
        beside = sticky(world.context("virtualfactory", properties))
        try:
            first.validate_configuration()
            beside.validate_configuration()  # a live instance beside it: a JVM of its own
            assert beside.pid != first.pid
            pid, reused = first.pid, POOL.reused
            first.close()
            following = sticky(world.context("api", properties))
            assert (following.pid, POOL.reused) == (pid, reused + 1)
            following.validate_configuration()  # no static field, no system property left
            following.close()
        finally:
            for plugin in (first, beside):
                plugin.close()


def test_a_jvm_whose_plugin_left_a_thread_running_serves_no_other_instance(
    java_jars: dict[str, Path],
) -> None:
    leaky = jar_plugin_class(str(java_jars["Threading"]), label="threading")
    reused = POOL.reused
    with small_world() as world:
        first = leaky(world.context("api", {}))
        pid = first.pid
        first.close()
        following = leaky(world.context("api", {}))
        try:
            assert following.pid != pid
        finally:
            following.close()
    assert POOL.reused == reused


def per_id_actions(plugin_class: type, properties: dict[str, str]) -> list[Any]:
    """The abiquo-4.7 and abiquo-6.0 calls in one sequence; everything the plugin answered."""
    out: list[Any] = []
    with small_world() as world:
        vf = plugin_class(world.context("virtualfactory", properties))
        api = plugin_class(world.context("api", properties))
        try:
            vm0, vm1, vm2 = (world.fleet.info(i) for i in range(3))
            first = schedule(HOURLY_6, DAILY)
            out.append(call(world, vf, "apply_schedule", vm0, first))
            world.env.run(until=DAY)
            out.append(call(world, api, "list_new_backup_results", None))
            backup = call(world, vf, "execute_backup", vm1, OnDemandBackupOptions())
            world.env.run(until=DAY + 7200)
            out.append(call(world, api, "get_backup_result", backup.provider_id))
            out.append(call(world, api, "get_backup_result", "bk-99999999"))
            restore = call(world, vf, "execute_restore", vm1, backup.provider_id)
            world.env.run(until=DAY + 9000)
            out.append(call(world, api, "get_restore_result", restore.provider_id))
            out.append(call(world, api, "get_restore_result", "rs-99999999"))
            out.append(call(world, api, "get_backup_result", restore.provider_id))
            out.append(call(world, api, "is_backup_expired", backup.provider_id))  # live: false
            out.append(call(world, api, "list_new_restore_results", world.clock.at(DAY)))
            out.append(call(world, api, "list_virtual_machines_in_backup_policy", "gold"))
            world.system.admin_add_to_policy(vm2.uuid, first.policies[0])
            out.append(call(world, api, "list_virtual_machines_in_backup_policy", "gold"))
            out.append(call(world, vf, "apply_new_schedule", vm0, first, schedule(HOURLY_12)))
            out.append(call(world, vf, "remove_schedule", vm0))
            world.env.run(until=9 * DAY)
            out.append(call(world, api, "list_new_backup_results", world.clock.at(DAY)))
            out.append([call(world, api, "is_backup_expired", r.provider_id) for r in out[1]])
            out.append(call(world, api, "is_backup_expired", backup.provider_id))
            assert world.system.open_sessions() == [], "a session was left open"
        finally:
            for plugin in (vf, api):
                close = getattr(plugin, "close", None)
                if close is not None:
                    close()
    return out


def test_the_abiquo_6_0_example_answers_the_per_id_and_policy_calls_as_the_reference(
    java_jars: dict[str, Path],
) -> None:
    java = jar_plugin_class(str(java_jars["example-6.0"]), label="java-6.0")
    assert java.contract_profiles == ("abiquo-4.7", "abiquo-6.0")
    properties = dict(getattr(java, "example_properties", {}))
    assert per_id_actions(java, properties) == per_id_actions(ReferencePlugin, REFERENCE_PROPERTIES)


@pytest.mark.parametrize(
    ("plugin", "rule", "evidence"),
    [
        ("Exiting", "errors.no-crash", "ExitingPlugin: giving up on"),
        ("Looping", "errors.returns-within-deadline", "executeBackup did not return"),
        (
            "Throwing",
            "errors.only-backup-plugin-exception",
            "at com.example.backup.tests.ThrowingPlugin.executeRestore",
        ),
    ],
)
def test_a_java_plugin_that_exits_hangs_or_throws_gets_a_finding_and_the_run_ends(
    java_jars: dict[str, Path], tmp_path: Path, plugin: str, rule: str, evidence: str
) -> None:
    out = tmp_path / "out"
    result = _on_jar("run", java_jars[plugin], out, "--call-timeout", "2")
    assert result.returncode == ExitCode.FINDINGS, result.stdout + result.stderr
    assert rule in _failing(out)
    assert evidence in json.dumps(_report(out))


@pytest.mark.parametrize(
    ("artifact", "cause"),
    [
        ("not-a-jar", "is not a jar"),
        ("no-services", f"has no {SERVICES}"),
        ("missing-class", "names com.example.backup.CustomBackupPlugn, which is not in"),
        (
            "not-a-plugin",
            "com.example.backup.CustomBackupConnection (named by "
            f"{SERVICES}) does not implement com.abiquo.backup.plugin.BackupScheduling",
        ),
        ("missing-dependency", "missing dependency class com.example.sdk.VendorClient"),
        ("too-new", "was compiled for a newer Java than this JVM"),
    ],
)
def test_a_bad_artifact_is_a_usage_error_naming_the_cause(
    java_jars: dict[str, Path], tmp_path: Path, artifact: str, cause: str
) -> None:
    result = _on_jar("run", java_jars[artifact], tmp_path / "out", timeout=180)
    assert result.returncode == ExitCode.USAGE, result.stdout + result.stderr
    assert cause in _text(result.stderr)
    assert "Traceback" not in result.stderr


def test_a_vendor_model_class_that_does_not_map_lists_every_such_property(
    java_jars: dict[str, Path], tmp_path: Path
) -> None:
    result = _on_jar("run", java_jars["mismatch"], tmp_path / "out", timeout=180)
    assert result.returncode == ExitCode.USAGE
    stderr = _text(result.stderr)
    assert "com.abiquo.backup.model.Disk.sizeBytes (wire Disk.size_bytes): no setter" in stderr
    assert "com.abiquo.backup.model.Disk.path (wire Disk.path): no setter" in stderr


def test_a_missing_jar_path_is_a_usage_error(tmp_path: Path) -> None:
    result = bpcert("run", "smoke", "--plugin", f"jar:{tmp_path / 'nowhere.jar'}", "--quiet")
    assert result.returncode == ExitCode.USAGE
    assert "nowhere.jar does not exist" in _text(result.stderr)


def test_two_processes_building_the_bridge_cache_at_once_both_get_it_whole(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "simulator.bridge.jvm", "classpath", "abiquo-6.0"]
    builds = [
        subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    printed = [b.communicate(timeout=600)[0].strip() for b in builds]
    assert [b.returncode for b in builds] == [0, 0]
    assert printed[0] == printed[1]
    for jar in printed[0].split(os.pathsep):
        assert zipfile.is_zipfile(jar), jar
    cache = tmp_path / "bpcert"
    assert [p.name.startswith("jvm-") for p in cache.iterdir()] == [True]  # no half-built left


def test_a_profile_marked_api_source_keeps_each_profile_s_lines_and_javac_s_line_numbers() -> None:
    shared = "a\n//@ only abiquo-4.0.4\nold\n//@ only abiquo-4.7 abiquo-6.0\nnew\n//@ end\nz\n"
    assert profile_source(shared, "abiquo-4.0.4") == "a\n\nold\n\n\n\nz\n"
    assert profile_source(shared, "abiquo-6.0") == "a\n\n\n\nnew\n\nz\n"
    with pytest.raises(PluginSpecError, match="line 2: unknown API source marker"):
        profile_source("a\n//@ onyl abiquo-6.0\n", "abiquo-6.0")
