"""``bpcert certify`` and ``bpcert verify``: a certification bundle to hand over, and its check.

``bpcert certify --plugin SPEC [--profile P]`` runs the full check with the plugin
isolated (a Python plugin is served from a child process; ``exec:`` and ``jar:`` plugins
are out of process anyway), judges it against the profile's guideline
(:mod:`conformance.guidelines`) and writes one ``.tar.gz`` (:mod:`conformance.bundle`).
It is certified only when every required rule ran and passed and no rule failed.

``bpcert verify BUNDLE`` checks every file's sha256, checks that the plugin's files and
properties are those the bundle was made with, runs the recorded check again (same seeds,
same flags) and confirms the verdict with the same findings. Exit codes: 0 certified /
verified, 1 not certified / not verified, 2 incomplete (``--max-wall`` stopped the check
or the re-run before it judged everything, and no rule failed), 4 usage error (no such
bundle, an unreadable one, a properties file to pass again).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import platform
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from rich.console import Console

from conformance.bundle import (
    BundleError,
    Manifest,
    PluginIdentity,
    plugin_identity,
    read_bundle,
    run_dir_digests,
    sha256_bytes,
    write_bundle,
)
from conformance.check import CheckRequest, run_check
from conformance.exit_codes import ExitCode
from conformance.guidelines import Guideline, guideline_for
from conformance.replay import launcher
from conformance.run_dir import RunDir, open_run_dir, write_run_report
from conformance.usage import UsageError, add_max_wall, max_wall_s
from reports.model import RunReport
from simulator.bridge.loader import LoadedPlugin

__all__ = [
    "CERTIFY_COMMANDS",
    "VerifyIncomplete",
    "add_certify_parsers",
    "bpcert_version",
    "certification_verdict",
    "findings_fingerprint",
    "verify_bundle",
]

Progress = Callable[[str, float, float], None]


def bpcert_version() -> str:
    """The installed bpcert's version."""
    try:
        return version("bpcert")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree, not installed
        return "unknown"


def certification_verdict(
    report: RunReport | dict[str, Any],
    guideline: Guideline,
    *,
    partial: bool,
    cut_short: bool = False,
) -> dict[str, Any]:
    """The certificate's verdict: required rules failed or not run, every failure, and why.

    Certified when the check was whole (not ``partial``, not ``cut_short`` by
    ``--max-wall`` or a signal), every required rule that applies to the plugin ran and
    passed, and no rule failed.
    """
    from conformance.rules import RULES

    data = report if isinstance(report, dict) else report.model_dump(mode="json")
    by_id = {r["id"]: r for r in data["rules"]}
    unsupported = set(data["plugin"].get("unsupported_operations", []))
    needs = {r.id: {op.value for op in r.needs_operations} for r in RULES}
    not_applicable = [i for i in guideline.required if needs.get(i, set()) & unsupported]
    ran = {i for i, r in by_id.items() if r["status"] in ("pass", "fail")}
    required = [i for i in guideline.required if i not in not_applicable]
    required += [i for i in guideline.conditional if i in ran]
    failed = [i for i, r in by_id.items() if r["status"] == "fail" and not r.get("advisory")]
    required_failed = [i for i in required if i in failed]
    required_not_run = [
        {"id": i, "reason": (by_id[i].get("reason") or by_id[i]["status"])}
        if i in by_id
        else {"id": i, "reason": "not in this run"}
        for i in required
        if i not in ran
    ]
    return {
        "certified": not partial
        and not cut_short
        and not required_failed
        and not required_not_run
        and not failed,
        "partial": partial,
        "cut_short": cut_short,
        "required_failed": required_failed,
        "required_not_run": required_not_run,
        "other_failed": [i for i in failed if i not in required_failed],
        "not_applicable": not_applicable,
        "advisory_not_run": [i for i in guideline.advisory if i not in ran],
    }


def findings_fingerprint(report: dict[str, Any]) -> dict[str, Any]:
    """What a re-run must give again: each rule's status and findings, and each seed."""
    return {
        "rules": {
            r["id"]: {
                "status": r["status"],
                "findings_total": r.get("findings_total", 0),
                "findings": [
                    [f.get("scenario"), f["message"], f.get("at")] for f in r.get("findings", [])
                ],
            }
            for r in report["rules"]
        },
        "seeds": {s["name"]: s["seed"] for s in report.get("scenarios", [])},
    }


def _print_verdict(console: Console, verdict: dict[str, Any], guideline: Guideline) -> None:
    head = "certified" if verdict["certified"] else "NOT certified"
    console.print(
        f"certification: {head} against the {guideline.profile} guideline {guideline.version}",
        markup=False,
    )
    if verdict["partial"]:
        console.print("  a partial check (--scenario) cannot certify", markup=False)
    if verdict.get("cut_short"):
        console.print(
            "  a check that --max-wall or a signal cut short cannot certify", markup=False
        )
    for rule_id in verdict["required_failed"]:
        console.print(f"  required rule failed: {rule_id}", markup=False)
    for item in verdict["required_not_run"]:
        console.print(f"  required rule not run: {item['id']} ({item['reason']})", markup=False)
    for rule_id in verdict["other_failed"]:
        console.print(f"  advisory rule failed: {rule_id}", markup=False)
    if verdict["not_applicable"]:
        console.print(
            "  not applicable (they need operations the plugin declares unsupported): "
            + ", ".join(verdict["not_applicable"]),
            markup=False,
        )


def _certify_command(args: argparse.Namespace, plugin_spec: str) -> str:
    import shlex

    words = [*launcher(), "certify", "--plugin", plugin_spec]
    if args.profile:
        words += ["--profile", args.profile]
    if args.properties:
        words += ["--properties", args.properties]
    if args.call_timeout != 10.0:
        words += ["--call-timeout", f"{args.call_timeout:g}"]
    for scenario in args.scenario:
        words += ["--scenario", scenario]
    words += ["--examples", str(args.examples)]
    if args.seed is not None:
        words += ["--seed", str(args.seed)]
    return shlex.join(words)


def _cmd_certify(args: argparse.Namespace, console: Console) -> int:
    from conformance.runner import profile_of, resolve_plugin, run_id

    max_wall = max_wall_s(args)
    if args.profile is not None:
        guideline_for(args.profile)  # an unknown profile fails before the plugin starts
    plugin = resolve_plugin(args.plugin, isolation="process", call_timeout_s=args.call_timeout)
    # The profile the check runs (the newest the plugin declares, unless asked) is the one
    # whose guideline judges it, and the one verify runs again.
    profile = profile_of(plugin, args.profile).id
    guideline = guideline_for(profile)
    request = dataclasses.replace(CheckRequest.from_args(args, plugin), profile=profile)
    with open_run_dir(args.out, run_id("certify", plugin, [], args.seed)) as run_dir:
        return _certify_into(args, console, run_dir.path, plugin, request, guideline, max_wall)


def _certify_into(
    args: argparse.Namespace,
    console: Console,
    out: Path,
    plugin: LoadedPlugin,
    request: CheckRequest,
    guideline: Guideline,
    max_wall: float | None,
) -> int:
    """``bpcert certify`` once its run directory is open: check, report, bundle."""
    from conformance.progress import progress_for
    from reports.terminal import print_summary

    report = run_check(
        request,
        out=out,
        plugin=plugin,
        progress=progress_for(console, args.quiet),
        max_wall_s=max_wall,
    )
    write_run_report(report, out)
    print_summary(report, console)
    verdict = certification_verdict(
        report, guideline, partial=bool(args.scenario), cut_short=_cut_short(report)
    )
    from conformance.rules import rules_markdown

    manifest = Manifest(
        bpcert_version=bpcert_version(),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        command=_certify_command(args, plugin.spec),
        profile=guideline.profile,
        guideline=guideline.model_dump(mode="json"),
        rules_registry_sha256=sha256_bytes(rules_markdown().encode("utf-8")),
        plugin=plugin_identity(
            plugin.spec,
            plugin.isolation,
            plugin_class=plugin.plugin_class,
            properties_file=args.properties,
        ),
        run={
            "seed": args.seed,
            "examples": args.examples,
            "call_timeout_s": args.call_timeout,
            "scenarios": list(args.scenario),
            "scenario_seeds": {s.name: s.seed for s in report.scenarios},
            "check_verdict": report.verdict,
        },
        environment={
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "machine": platform.machine(),
        },
        verdict=verdict,
        files=run_dir_digests(out),
    )
    bundle = write_bundle(args.bundle or out.with_name(out.name + ".tar.gz"), out, manifest)
    _print_verdict(console, verdict, guideline)
    console.print(f"bundle: {bundle}", markup=False)
    if verdict["certified"]:
        return int(ExitCode.OK)
    # A check that --max-wall (or a signal) cut short, with no rule failed: it did not
    # judge everything, which is not the same as finding the plugin wrong. (A partial
    # check, --scenario, is complete as asked: not certified, exit 1.)
    if _cut_short(report) and report.verdict in ("incomplete", "interrupted"):
        return report.exit_code
    return int(ExitCode.FINDINGS)


def _cut_short(report: RunReport) -> bool:
    """Whether ``--max-wall`` or a signal stopped the check before it ran everything (a
    partial check, ``--scenario``, is not cut short: it ran what was asked)."""
    return report.verdict == "interrupted" or any("--max-wall" in n for n in report.notes)


def _changed_plugin(recorded: PluginIdentity, now: PluginIdentity) -> list[str]:
    problems = []
    before = {f.path: f.sha256 for f in recorded.files}
    after = {f.path: f.sha256 for f in now.files}
    for path, digest in before.items():
        if path not in after:
            problems.append(f"the plugin file {path} is gone since the bundle was made")
        elif after[path] != digest:
            problems.append(
                f"the plugin file {path} has changed since the bundle was made "
                f"(sha256 {digest[:12]}… in the bundle, {after[path][:12]}… now)"
            )
    for path in sorted(set(after) - set(before)):
        problems.append(f"the plugin is now made of {path} too, which the bundle does not name")
    if (
        recorded.properties is not None
        and now.properties is not None
        and recorded.properties.sha256 != now.properties.sha256
    ):
        problems.append(
            f"the properties file {now.properties.path} differs from the one the bundle "
            f"was made with ({recorded.properties.path})"
        )
    if recorded.example_properties_sha256 != now.example_properties_sha256:
        problems.append("the plugin's example properties changed since the bundle was made")
    return problems


def verify_bundle(
    path: Path,
    *,
    properties: str | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
    max_wall_s: float | None = None,
) -> tuple[Manifest, list[str]]:
    """Verify the bundle at ``path``; return its manifest and the problems found (none: valid).

    Raises :class:`UsageError` for a bundle that cannot be read, or a properties file
    that must be passed again, and :class:`VerifyIncomplete` when ``max_wall_s`` (or a
    signal) stopped the re-run before it ended: nothing is verified then.
    """
    from conformance.runner import resolve_plugin

    try:
        manifest, files = read_bundle(path)
    except BundleError as exc:
        raise UsageError(str(exc)) from None
    problems: list[str] = []
    for name, digest in sorted(manifest.files.items()):
        data = files.get(name)
        if data is None:
            problems.append(f"{name} is missing from the bundle")
        elif sha256_bytes(data) != digest:
            problems.append(
                f"{name} has changed since the bundle was made (sha256 {digest[:12]}… in the "
                f"manifest, {sha256_bytes(data)[:12]}… in the file)"
            )
    for name in sorted(set(files) - set(manifest.files)):
        problems.append(f"{name} is in the bundle but not in its manifest")
    if problems:
        return manifest, problems
    recorded = manifest.plugin
    props = properties or (recorded.properties.path if recorded.properties else None)
    if props is not None and not Path(props).is_file():
        raise UsageError(
            f"the bundle was made with --properties {props}, which is not here; pass the "
            "same file with --properties FILE"
        )
    plugin = resolve_plugin(
        recorded.spec,
        isolation="process" if recorded.isolation == "process" else "in-process",
        call_timeout_s=float(manifest.run["call_timeout_s"]),
    )
    now = plugin_identity(
        plugin.spec, plugin.isolation, plugin_class=plugin.plugin_class, properties_file=props
    )
    problems = _changed_plugin(recorded, now)
    if problems:
        return manifest, problems
    request = CheckRequest(
        plugin=plugin.spec,
        isolation=plugin.isolation,
        properties_file=props,
        call_timeout_s=float(manifest.run["call_timeout_s"]),
        seed=manifest.run["seed"],
        examples=int(manifest.run["examples"]),
        scenarios=tuple(manifest.run["scenarios"]) or None,
        profile=manifest.profile,
    )
    with tempfile.TemporaryDirectory(prefix="bpcert-verify-") as tmp:
        again = run_check(
            request, out=out or Path(tmp), plugin=plugin, progress=progress, max_wall_s=max_wall_s
        )
    bundled = json.loads(files["run/report.json"])
    if _cut_short(again):
        raise VerifyIncomplete(again)
    expected, got = findings_fingerprint(bundled), findings_fingerprint(again.model_dump())
    for name, seed in expected["seeds"].items():
        if got["seeds"].get(name) != seed:
            problems.append(
                f"scenario {name} ran with seed {got['seeds'].get(name)}, the bundle recorded "
                f"{seed}"
            )
    for rule_id, before in expected["rules"].items():
        after = got["rules"].get(rule_id)
        if after is None:
            problems.append(f"{rule_id} is no rule of this bpcert ({bpcert_version()})")
        elif after["status"] != before["status"]:
            problems.append(f"{rule_id}: {after['status']} again, {before['status']} in the bundle")
        elif after != before:
            problems.append(f"{rule_id}: {before['status']} again, with other findings")
    recorded_guideline = Guideline.model_validate(manifest.guideline)
    partial = bool(manifest.run["scenarios"])
    verdict = certification_verdict(again, recorded_guideline, partial=partial)
    if verdict["certified"] != manifest.verdict.get("certified"):
        problems.append(
            f"the re-run is {'certified' if verdict['certified'] else 'not certified'}, the "
            f"bundle says {'certified' if manifest.verdict.get('certified') else 'not certified'}"
        )
    if bundled.get("verdict") != again.verdict:
        problems.append(
            f"the check is {again.verdict} again, {bundled.get('verdict')} in the bundle"
        )
    if manifest.bpcert_version != bpcert_version() and problems:
        problems.append(
            f"the bundle was made by bpcert {manifest.bpcert_version}, this is {bpcert_version()}"
        )
    return manifest, problems


class VerifyIncomplete(Exception):
    """The re-run of a bundle's check stopped before its end (``--max-wall``, a signal)."""

    def __init__(self, report: RunReport) -> None:
        stopped = next((n for n in report.notes if n.startswith("stopped: ")), report.verdict)
        super().__init__(stopped)
        self.report = report


def _cmd_verify(args: argparse.Namespace, console: Console) -> int:
    from conformance.progress import progress_for

    if not args.bundle.is_file():
        raise UsageError(f"{args.bundle}: no such bundle")
    max_wall = max_wall_s(args)
    # A given --out is created, probed and locked like every command's before the bundle is
    # read or re-run; without one the re-run goes to a temporary directory.
    out_dir: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if args.out is not None:
        out_dir = RunDir(args.out)
    try:
        with out_dir:
            manifest, problems = verify_bundle(
                args.bundle,
                properties=args.properties,
                out=args.out,
                progress=progress_for(console, args.quiet),
                max_wall_s=max_wall,
            )
    except VerifyIncomplete as exc:
        console.print(
            f"verify: incomplete: the re-run of {args.bundle} did not end ({exc}); nothing is "
            "verified",
            markup=False,
        )
        return exc.report.exit_code
    certified = "certified" if manifest.verdict.get("certified") else "NOT certified"
    if problems:
        console.print(f"verify: FAILED: {args.bundle} does not verify", markup=False)
        for problem in problems:
            console.print(f"  {problem}", markup=False)
        return int(ExitCode.FINDINGS)
    console.print(
        f"verify: ok: every file matches its sha256, the plugin is the same, and the recorded "
        f"check gives the same verdict and findings again: {certified} against the "
        f"{manifest.profile} guideline {manifest.guideline.get('version')}",
        markup=False,
    )
    return int(ExitCode.OK)


def add_certify_parsers(sub: Any) -> None:
    """Add ``certify`` and ``verify`` to the ``bpcert`` subcommands."""
    certify = sub.add_parser("certify", help="run the full check and write a certification bundle")
    certify.add_argument("--plugin", required=True, help="an installed name, module:Class, ...")
    certify.add_argument(
        "--profile", default=None, help="the contract profile whose guideline applies"
    )
    certify.add_argument("--properties", default=None, help="the plugin's properties file")
    certify.add_argument(
        "--call-timeout", type=float, default=10.0, help="wall seconds a call may take"
    )
    certify.add_argument("--seed", type=int, default=None, help="override every scenario's seed")
    certify.add_argument(
        "--examples", type=int, default=10, help="property-based examples (default 10)"
    )
    certify.add_argument(
        "--scenario",
        action="append",
        default=[],
        help="only these scenarios (a partial check: never certified, for a quick look)",
    )
    certify.add_argument("--out", type=Path, default=None, help="the run directory")
    certify.add_argument(
        "--bundle", type=Path, default=None, help="the bundle to write (default OUT.tar.gz)"
    )
    certify.add_argument("--quiet", action="store_true", help="no progress bar")
    add_max_wall(certify, "the check (the bundle holds what ran; it is not certified)")
    verify = sub.add_parser("verify", help="check a certification bundle and re-run it")
    verify.add_argument("bundle", type=Path, help="the .tar.gz that bpcert certify wrote")
    verify.add_argument(
        "--properties", default=None, help="the properties file, if not where it was"
    )
    verify.add_argument("--out", type=Path, default=None, help="keep the re-run here")
    verify.add_argument("--quiet", action="store_true", help="no progress bar")
    add_max_wall(verify, "the re-run (nothing is verified then)")


#: The commands :func:`add_certify_parsers` adds, by name.
CERTIFY_COMMANDS: dict[str, Callable[[argparse.Namespace, Console], int]] = {
    "certify": _cmd_certify,
    "verify": _cmd_verify,
}
