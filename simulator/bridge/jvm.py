"""Java plugin jars behind a JVM bridge: ``--plugin jar:PLUGIN.jar[:MORE.jar:DIR...]``.

A vendor's backup plugin is a jar that Abiquo finds through
``META-INF/services/com.abiquo.backup.plugin.BackupScheduling``. This module judges that
jar as it ships:

- it compiles, once, from the Java sources shipped in this package (``java/``), the bridge
  (``org.bpcert.bridge.Main``: docs/protocol.md over stdio, the plugin found with
  ``ServiceLoader``), a client of the fake backup system (``org.bpcert.backend``) and one
  *(modelled)* Abiquo API jar per contract profile, into a cache keyed by a hash of the
  sources and the JDK version (``$XDG_CACHE_HOME/bpcert`` or ``~/.cache/bpcert``). A build
  goes to a temporary directory that is renamed into place, so two processes building at
  once never see a half-written cache. Nothing is downloaded;
- it diagnoses the artifact before the run (``Main --check``): a path that is not a jar, no
  services file, a services entry naming a missing class, a class that is not a
  ``BackupScheduling``, a missing dependency class, a class file newer than the JVM and
  model properties the bridge cannot map are each a :class:`PluginSpecError` naming it;
- it then runs ``java -cp BRIDGE -Dbpcert.plugin.classpath=PLUGIN_ENTRIES:API:BACKEND
  org.bpcert.bridge.Main --reuse`` as an exec plugin through
  :func:`simulator.bridge.process.process_plugin_class`, so per-call deadlines, crash and
  hang findings and the stderr tail hold exactly as for any exec plugin. The plugin's
  entries come before bpcert's API jar, so a vendor's own Abiquo jars on the path win;
- a JVM serves one plugin instance at a time, each from a class loader of its own, and a
  closed instance's JVM serves the next instance (:class:`JvmPool`): a check starts a
  handful of JVMs instead of one per component per world, and every component still has a
  process of its own.

See docs/java.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from simulator.bridge.jvm_pool import POOL, JvmPool
from simulator.bridge.loader import PluginSpecError
from simulator.bridge.process import (
    PluginLaunchError,
    ProcessPlugin,
    process_plugin_class,
)

__all__ = [
    "API_PROFILES",
    "BRIDGE_MAIN",
    "JVM_OPTIONS",
    "POOL",
    "Jdk",
    "JvmJars",
    "JvmPool",
    "build_jars",
    "compile_classes",
    "compile_plugin",
    "find_jdk",
    "jar_plugin_class",
    "main",
    "profile_source",
    "write_jar",
]

#: The Java sources shipped with the package.
SOURCES = Path(__file__).resolve().parent / "java"
BRIDGE_MAIN = "org.bpcert.bridge.Main"
#: The contract profiles that have an API jar, oldest first; the last one runs plugins.
API_PROFILES: tuple[str, ...] = ("abiquo-4.0.4", "abiquo-4.7", "abiquo-6.0")
#: Start fast and stay small: a world starts one JVM per component.
JVM_OPTIONS: tuple[str, ...] = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    "-XX:-UsePerfData",
)
_SERVICES = "META-INF/services/com.abiquo.backup.plugin.BackupScheduling"
_MAKE_HINT = (
    "install a JDK (17 or newer) with `make java` (Debian's openjdk-17-jdk-headless), or "
    "point JAVA_HOME at one"
)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Jdk:
    """The JDK that builds and runs Java plugins: its ``java`` and ``javac``, its version."""

    java: Path
    javac: Path
    version: str


@dataclass(frozen=True)
class JvmJars:
    """The built jars: the bridge, the backend client and one API jar per profile."""

    bridge: Path
    backend: Path
    api: dict[str, Path]


def find_jdk() -> Jdk:
    """The JDK of ``JAVA_HOME``, else the one whose ``javac`` is on ``PATH``.

    Raises :class:`PluginSpecError` naming ``make java`` when there is none.
    """
    javac: Path | None = None
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "javac").is_file():
        javac = Path(home) / "bin" / "javac"
    elif (found := shutil.which("javac")) is not None:
        javac = Path(found)
    if javac is None:
        raise PluginSpecError(f"a jar: plugin needs a JDK, and javac was not found: {_MAKE_HINT}")
    javac = javac.resolve()
    java = javac.parent / "java"
    if not java.is_file():
        raise PluginSpecError(f"{javac} has no java next to it: {_MAKE_HINT}")
    return Jdk(java=java, javac=javac, version=_jdk_version(javac))


def _jdk_version(javac: Path) -> str:
    release = javac.parent.parent / "release"
    with contextlib.suppress(OSError):
        for line in release.read_text(encoding="utf-8").splitlines():
            if line.startswith("JAVA_VERSION="):
                return f"{line.split('=', 1)[1].strip(chr(34))} {javac}"
    done = subprocess.run(
        [str(javac), "-version"], capture_output=True, text=True, check=False, timeout=60
    )
    return f"{(done.stdout + done.stderr).strip()} {javac}"


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bpcert"


def _sources_hash(jdk: Jdk) -> str:
    digest = hashlib.sha256(jdk.version.encode())
    for path in sorted(SOURCES.rglob("*.java")):
        digest.update(str(path.relative_to(SOURCES)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _javac(
    jdk: Jdk, release: str, out: Path, sources: Sequence[Path], classpath: str = ""
) -> list[str]:
    argv = [
        str(jdk.javac),
        "--release",
        release,
        "-Xlint:-options",
        "-nowarn",
        "-encoding",
        "UTF-8",
    ]
    if classpath:
        argv += ["-cp", classpath]
    return [*argv, "-d", str(out), *(str(s) for s in sources)]


def _run_all(commands: Sequence[list[str]]) -> None:
    """Run the commands at once; raise :class:`PluginSpecError` with the first failure."""
    running = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for c in commands
    ]
    failures = []
    for command, process in zip(commands, running, strict=True):
        output, _ = process.communicate()
        if process.returncode != 0:
            failures.append(f"`{' '.join(command[:3])} ...` failed:\n{output.strip()}")
    if failures:
        raise PluginSpecError("building the Java bridge failed: " + "\n".join(failures))


def write_jar(jar: Path, roots: Sequence[Path], *, skip: frozenset[str] = frozenset()) -> None:
    """Write a reproducible jar of every file under ``roots`` (later roots win on a clash).

    Entries are sorted and dated 1980-01-01, so the same files give the same bytes; ``skip``
    names entries to leave out.
    """
    files: dict[str, Path] = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                name = path.relative_to(root).as_posix()
                if name not in skip:
                    files[name] = path
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as out:
        manifest = zipfile.ZipInfo("META-INF/MANIFEST.MF", _FIXED_TIME)
        out.writestr(manifest, "Manifest-Version: 1.0\r\nCreated-By: bpcert\r\n\r\n")
        for name in sorted(files):
            if name == "META-INF/MANIFEST.MF":
                continue
            info = zipfile.ZipInfo(name, _FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, files[name].read_bytes())


#: The API sources that differ by profile (``BackupScheduling``): the generations share
#: most of the interface, so one file holds them all, its lines marked by profile.
_BY_PROFILE = SOURCES / "api" / "by-profile"
_ONLY = "//@ only "
_END = "//@ end"


def profile_source(text: str, profile: str) -> str:
    """A shared API source as ``profile`` has it.

    The lines after ``//@ only PROFILE...`` stay only for the profiles the marker names, up
    to the next marker; ``//@ end`` starts lines that every profile keeps. Dropped lines
    (and the markers) become empty lines, so that javac's line numbers still point into
    the shared file.
    """
    out = []
    keep = True
    for number, line in enumerate(text.splitlines(), 1):
        marker = line.strip()
        if marker.startswith(_ONLY):
            keep = profile in marker[len(_ONLY) :].split()
            out.append("")
        elif marker == _END:
            keep = True
            out.append("")
        elif marker.startswith("//@"):
            raise PluginSpecError(f"line {number}: unknown API source marker {marker!r}")
        else:
            out.append(line if keep else "")
    return "\n".join(out) + "\n"


def _api_sources(profile: str, into: Path) -> list[Path]:
    """The profile-marked API sources, written under ``into`` as ``profile`` has them."""
    written = []
    for path in sorted(_BY_PROFILE.rglob("*.java")):
        target = into / profile / path.relative_to(_BY_PROFILE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(profile_source(path.read_text(encoding="utf-8"), profile), "utf-8")
        written.append(target)
    return written


def _build(jdk: Jdk, into: Path) -> None:
    """Compile every jar into ``into`` (a fresh directory)."""
    classes = into / "classes"
    sources = into / "sources"
    common = sorted((SOURCES / "api" / "common").rglob("*.java"))
    newest = API_PROFILES[-1]
    base = classes / newest
    _run_all([_javac(jdk, "8", base, [*common, *_api_sources(newest, sources)])])
    commands = [
        _javac(jdk, "8", classes / p, _api_sources(p, sources), str(base))
        for p in API_PROFILES[:-1]
    ]
    bridge_sources = sorted((SOURCES / "bridge").rglob("*.java"))
    backend_sources = sorted((SOURCES / "backend").rglob("*.java"))
    commands.append(
        _javac(jdk, "11", classes / "bpcert", [*bridge_sources, *backend_sources], str(base))
    )
    _run_all(commands)
    interface = "com/abiquo/backup/plugin/BackupScheduling.class"
    write_jar(into / f"{newest}.jar", [base])
    for profile in API_PROFILES[:-1]:
        write_jar(into / f"{profile}.jar", [base, classes / profile])
        if not (classes / profile / interface).is_file():
            raise PluginSpecError(f"building the {profile} API jar produced no {interface}")
    split = classes / "split"
    for package in ("bridge", "backend"):
        shutil.copytree(
            classes / "bpcert" / "org" / "bpcert" / package,
            split / package / "org" / "bpcert" / package,
        )
        write_jar(into / f"bpcert-{package}.jar", [split / package])
    shutil.rmtree(classes)
    shutil.rmtree(sources)


def _jars_in(directory: Path) -> JvmJars:
    return JvmJars(
        bridge=directory / "bpcert-bridge.jar",
        backend=directory / "bpcert-backend.jar",
        api={p: directory / f"{p}.jar" for p in API_PROFILES},
    )


def _complete(jars: JvmJars) -> bool:
    return all(p.is_file() for p in (jars.bridge, jars.backend, *jars.api.values()))


@cache
def _built(jdk: Jdk, key: str) -> JvmJars:
    root = _cache_root()
    final = root / f"jvm-{key}"
    jars = _jars_in(final)
    if _complete(jars):
        return jars
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    try:
        _build(jdk, building)
        try:
            os.rename(building, final)
        except OSError:
            # Another process finished first (its directory is complete), or a stale
            # incomplete one is in the way: replace only the latter.
            if not _complete(jars):
                shutil.rmtree(final, ignore_errors=True)
                os.rename(building, final)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    if not _complete(jars):
        raise PluginSpecError(f"the Java bridge cache {final} is incomplete; remove it and retry")
    return jars


def build_jars(jdk: Jdk | None = None) -> JvmJars:
    """The bridge, backend client and API jars, built now unless the cache has them."""
    jdk = jdk or find_jdk()
    return _built(jdk, _sources_hash(jdk))


def compile_classes(
    sources: Sequence[Path], out: Path, *, profile: str = API_PROFILES[-1], release: str = "11"
) -> Path:
    """Compile every ``*.java`` under ``sources`` into ``out`` against one profile's API jar.

    The classpath holds what a vendor's plugin compiles against: the profile's API jar and
    the backend client (``org.bpcert.backend``). Returns ``out``.
    """
    if profile not in API_PROFILES:
        raise PluginSpecError(f"unknown profile {profile!r}; one of {', '.join(API_PROFILES)}")
    jdk = find_jdk()
    jars = build_jars(jdk)
    java_files = sorted(f for s in sources for f in Path(s).rglob("*.java"))
    classpath = os.pathsep.join([str(jars.api[profile]), str(jars.backend), str(jars.bridge)])
    _run_all([_javac(jdk, release, out, java_files, classpath)])
    return out


def compile_plugin(
    sources: Sequence[Path], out: Path, *, profile: str = API_PROFILES[-1], release: str = "11"
) -> Path:
    """Build a plugin jar, as a vendor would, against one profile's API jar.

    Every ``*.java`` under ``sources`` is compiled by :func:`compile_classes`; every other
    file under them (the services file, ``META-INF/bpcert/example.properties``) is packed as
    it is. Returns ``out``.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bpcert-plugin-") as scratch:
        classes = compile_classes(
            sources, Path(scratch) / "classes", profile=profile, release=release
        )
        resources = Path(scratch) / "resources"
        for source in sources:
            for path in sorted(Path(source).rglob("*")):
                if path.is_file() and path.suffix != ".java":
                    target = resources / path.relative_to(source)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
        write_jar(out, [classes, resources])
    return out


def _entries(spec_entries: str, spec: str) -> list[Path]:
    raw = [e for e in spec_entries.split(os.pathsep) if e]
    if not raw:
        raise PluginSpecError(f"plugin {spec!r}: 'jar:' needs a jar, e.g. 'jar:build/plugin.jar'")
    entries = []
    for index, text in enumerate(raw):
        path = Path(text).expanduser()
        if not path.exists():
            raise PluginSpecError(f"plugin {spec!r}: {text} does not exist")
        if index == 0 and (not path.is_file() or not zipfile.is_zipfile(path)):
            raise PluginSpecError(
                f"plugin {spec!r}: {text} is not a jar (a zip archive); the first entry of "
                "'jar:' is the plugin jar, the others its dependencies (jars or directories)"
            )
        if index > 0 and path.is_file() and not zipfile.is_zipfile(path):
            raise PluginSpecError(f"plugin {spec!r}: {text} is neither a jar nor a directory")
        entries.append(path.resolve())
    with zipfile.ZipFile(entries[0]) as jar:
        has_services = _SERVICES in jar.namelist()
    if not has_services and not any(
        (e / _SERVICES).is_file() if e.is_dir() else _SERVICES in zipfile.ZipFile(e).namelist()
        for e in entries[1:]
    ):
        raise PluginSpecError(
            f"plugin {spec!r}: {raw[0]} has no {_SERVICES}; Abiquo finds a backup plugin "
            "through that file, which names the plugin class (see docs/java.md)"
        )
    return entries


def _java_argv(jdk: Jdk, jars: JvmJars, entries: Sequence[Path], shown: str) -> list[str]:
    """The bridge's command line; the plugin's entries are its instances' class path."""
    classpath = os.pathsep.join(
        str(p) for p in (*entries, jars.api[API_PROFILES[-1]], jars.backend)
    )
    return [
        str(jdk.java),
        *JVM_OPTIONS,
        "-cp",
        str(jars.bridge),
        f"-Dbpcert.plugin.classpath={classpath}",
        f"-Dbpcert.plugin.path={shown}",
        BRIDGE_MAIN,
    ]


def _check(argv: list[str], spec: str) -> None:
    """Run ``Main --check``; raise :class:`PluginSpecError` with every problem it found."""
    try:
        done = subprocess.run(
            [*argv, "--check"], capture_output=True, text=True, check=False, timeout=120
        )
    except subprocess.TimeoutExpired:
        raise PluginSpecError(
            f"plugin {spec!r}: the JVM did not check the jar within 120 s"
        ) from None
    verdict = None
    for line in reversed(done.stdout.splitlines()):
        with contextlib.suppress(ValueError):
            verdict = json.loads(line)
            break
    if done.returncode != 0 or not isinstance(verdict, dict):
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise PluginSpecError(
            f"plugin {spec!r}: the JVM could not check the jar (exit {done.returncode}):\n{tail}"
        )
    problems = verdict.get("problems") or []
    if not verdict.get("ok"):
        listing = "\n".join(f"  - {p}" for p in problems) or "  - (no reason given)"
        raise PluginSpecError(f"plugin {spec!r} cannot be certified:\n{listing}")


def jar_plugin_class(
    spec_entries: str, *, label: str, call_timeout_s: float = 10.0
) -> type[ProcessPlugin]:
    """The plugin class of ``jar:`` entries, served by the JVM bridge one process per instance.

    The processes come from :data:`POOL`: a closed instance's JVM serves the next one.

    ``spec_entries`` is what follows ``jar:``: the plugin jar, then its dependencies,
    separated by ``os.pathsep``. Raises :class:`PluginSpecError` for a missing JDK or a bad
    artifact, naming the cause.
    """
    entries = _entries(spec_entries, label)
    jdk = find_jdk()
    jars = build_jars(jdk)
    argv = _java_argv(jdk, jars, entries, spec_entries)
    _check(argv, label)
    try:
        return process_plugin_class(
            [*argv, "--reuse"], label=label, call_timeout_s=call_timeout_s, children=POOL
        )
    except PluginLaunchError as exc:
        raise PluginSpecError(f"plugin {label!r} could not be started: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Build a plugin jar, or print what one compiles against, from the command line.

    ``python -m simulator.bridge.jvm classpath PROFILE`` or
    ``python -m simulator.bridge.jvm build OUT.jar SRC... [--profile P]``.

    ``classpath`` prints what a plugin compiles against (the profile's API jar and the
    backend client); ``build`` compiles a plugin jar with :func:`compile_plugin`.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if len(args) == 2 and args[0] == "classpath":
            jars = build_jars()
            if args[1] not in jars.api:
                raise PluginSpecError(
                    f"unknown profile {args[1]!r}; one of {', '.join(API_PROFILES)}"
                )
            sys.stdout.write(
                os.pathsep.join([str(jars.api[args[1]]), str(jars.backend), str(jars.bridge)])
                + "\n"
            )
            return 0
        if len(args) >= 3 and args[0] == "build":
            profile = API_PROFILES[-1]
            if "--profile" in args:
                at = args.index("--profile")
                profile = args[at + 1]
                del args[at : at + 2]
            compile_plugin([Path(s) for s in args[2:]], Path(args[1]), profile=profile)
            sys.stdout.write(f"{args[1]}\n")
            return 0
    except PluginSpecError as exc:
        sys.stderr.write(f"{exc}\n")
        return 4
    sys.stderr.write(main.__doc__ or "")
    return 4


if __name__ == "__main__":
    raise SystemExit(main())
