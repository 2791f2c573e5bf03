"""Scenario files are untrusted input: hostile ones end in a usage error, quickly and small.

Each case of :data:`CASES` is one class of malformed file (binary content, huge numbers,
deep nesting, alias bombs, long durations, huge counts, wrong types, an oversized
document) run through ``bpcert run FILE --plugin reference`` in a child process under
resource limits. It must exit 4 naming the file, the line and the field, or, for the few
valid ones, run. Hypothesis then mutates a valid scenario in-process: every mutant loads or
is refused with a :class:`ScenarioError`, never another exception.
"""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.exit_codes import ExitCode
from simulator.scenario import Scenario, ScenarioError, load_scenario_text

ROOT = Path(__file__).resolve().parent.parent

#: A valid scenario that runs in a moment; the cases replace one of its lines.
BASE = """\
name: fuzz
duration: 1h
start: 2026-01-05T00:00:00Z
fleet:
  vms: 2
  hypervisors_per_datacenter: 1
  policy_mix:
    - {policies: [daily], weight: 1}
policies:
  - code: daily
    name: Daily
    retention: 2d
    configurations:
      - {type: COMPLETE, subtype: DAILY, time: "01:00:00 +0000"}
platform:
  vf_workers: 4
backup_system:
  throughput_mb_per_s: 200
"""

#: Peak memory of a refused run: the interpreter, bpcert's imports and the refusal.
MAX_RSS_MB = 200
#: CPU seconds each process of a refused case may use before the kernel stops it: the
#: interpreter and bpcert's imports take about a quarter of it, so reading and refusing
#: any file, at or past every bound, must be quick (a hang or a slow pass is a failure).
CPU_LIMIT_S = 1
#: The same for a valid case, which also simulates its scenario and draws its report.
VALID_CPU_LIMIT_S = 20
#: Address space of a case: an alias bomb fails fast here instead of filling the machine.
ADDRESS_SPACE_BYTES = 2 << 30


def _with(old: str, new: str) -> bytes:
    assert old in BASE, old
    return BASE.replace(old, new, 1).encode()


def _nested(levels: int) -> bytes:
    return _with("name: fuzz", "name: fuzz\ndescription: " + "[" * levels + "]" * levels)


def _block_nested(levels: int) -> bytes:
    lines = "".join(f"{'  ' * i}k{i}:\n" for i in range(levels))
    return _with("name: fuzz", f"name: fuzz\nextra:\n{lines}")


def _laughs(levels: int, field: str = "description") -> bytes:
    anchors = ['a0: &a0 "lol"'] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)
    ]
    body = "\n".join(f"  {a}" for a in anchors)
    return _with("name: fuzz", f"name: fuzz\nx-anchors:\n{body}\n{field}: *a{levels}")


def _values(count: int, value: str = "1") -> bytes:
    """A file of ``count`` values in all: the base's, and a list of the rest."""
    base = BASE.count(":") + BASE.count("- ") + BASE.count("{") + 20  # a bound, not exact
    listed = ", ".join([value] * (count - base))
    return _with("name: fuzz", f"name: fuzz\ndescription: [{listed}]")


def _timeline_mistakes(entries: int) -> bytes:
    timeline = "".join(
        f"    - {{at: {i}m, action: restore, vm: 0, replication: true}}\n" for i in range(entries)
    )
    return _with("name: fuzz", f"name: fuzz\nworkload:\n  timeline:\n{timeline}")


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("scenario.yaml", BASE)
    return out.getvalue()


@dataclass(frozen=True)
class Case:
    """One hostile (or valid) scenario file and what must come of it."""

    label: str
    data: bytes
    valid: bool = False
    #: A word the usage error must contain: the field, or the kind of refusal.
    names: str = ""


CASES: tuple[Case, ...] = (
    Case("valid", BASE.encode(), valid=True),
    # binary content
    Case("nul", _with("vms: 2", "vms: 2\x00"), names="control character"),
    Case("control-char", _with("name: fuzz", "name: fu\x07zz"), names="control character"),
    Case("zip", _zip(), names="zip"),
    Case("elf", b"\x7fELF\x02\x01\x01" + bytes(200), names="ELF"),
    Case("invalid-utf8", b"name: \xff\xfe\n", names="UTF-8"),
    # huge numbers
    Case("vms-1e100", _with("vms: 2", "vms: 1e100"), names="fleet.vms"),
    Case("vms-10^8", _with("vms: 2", "vms: 100000000"), names="fleet.vms"),
    Case("vms-huge-int", _with("vms: 2", "vms: " + "9" * 5000), names="fleet.vms"),
    Case("disk-1e308", _with("vms: 2", "vms: 2\n  disk_size_gb: [1, 1.0e+308]"), names="disk"),
    Case(
        "throughput-1e-300",
        _with("throughput_mb_per_s: 200", "throughput_mb_per_s: 1.0e-300"),
        names="throughput_mb_per_s",
    ),
    Case("retention-1e15", _with("retention: 2d", "retention: 1.0e+15"), names="retention"),
    Case("start-9999", _with("2026-01-05T00:00:00Z", "9999-12-31T00:00:00Z"), names="start"),
    Case("start-0001", _with("2026-01-05T00:00:00Z", "0001-01-01T00:00:00Z"), names="start"),
    Case(
        "defined-hour-9999",
        _with(
            '{type: COMPLETE, subtype: DAILY, time: "01:00:00 +0000"}',
            '{type: COMPLETE, subtype: DEFINED_HOUR, time: "9999/12/31 23:00:00 +0000"}',
        ),
        names="configurations",
    ),
    Case("seed-huge", _with("name: fuzz", "name: fuzz\nseed: " + "1" * 40), names="seed"),
    # YAML 1.1 reads these as numbers that PyYAML computes without int()'s digit limit
    Case("base-60-long", _with("vms: 2", "vms: 1" + ":00" * 40_000), names="fleet.vms"),
    Case("base-60-float", _with("vms: 2", "vms: 1" + ":00" * 40_000 + ".5"), names="fleet.vms"),
    Case("hex-long", _with("vms: 2", "vms: 0x" + "f" * 100_000), names="fleet.vms"),
    Case("binary-long", _with("vms: 2", "vms: 0b" + "1" * 100_000), names="fleet.vms"),
    Case("float-long", _with("vms: 2", "vms: 1." + "0" * 5_000_000), names="fleet.vms"),
    Case("numbers-at-bound", _values(19_990, "1" + ":59" * 33), names="description"),
    Case(
        "latency-1e12", _with("name: fuzz", "name: fuzz\nlatency: {fixed: 1.0e+12}"), names="fixed"
    ),
    Case(
        "rate-1e12",
        _with("name: fuzz", "name: fuzz\nworkload: {rates: {deploy: 1.0e+12}}"),
        names="deploy",
    ),
    Case("nan", _with("throughput_mb_per_s: 200", "throughput_mb_per_s: .nan"), names="throughput"),
    Case("inf", _with("throughput_mb_per_s: 200", "throughput_mb_per_s: .inf"), names="throughput"),
    # deep nesting
    Case("nest-1000", _nested(1000), names="nesting"),
    Case("nest-100000", _nested(100_000), names="nesting"),
    Case("block-nest-200", _block_nested(200), names="nesting"),
    # alias bombs
    Case("laughs-9", _laughs(9), names="alias"),
    Case("laughs-in-duration", _laughs(9, "x-duration"), names="alias"),
    Case("laughs-3", _laughs(3), names="description"),  # small: a plain type error
    Case("alias-self", _with("name: fuzz", "name: fuzz\nloop: &l [*l]"), names="alias"),
    Case(
        "many-aliases",
        _with("name: fuzz", "name: fuzz\nx: &x 1\ny: [" + ", ".join(["*x"] * 5000) + "]"),
        names="alias",
    ),
    # long durations
    Case("duration-1e12", _with("duration: 1h", "duration: 1.0e+12"), names="duration"),
    Case("duration-1e6-days", _with("duration: 1h", "duration: 1000000d"), names="duration"),
    Case("duration-3660d", _with("duration: 1h", "duration: 3661d"), names="duration"),
    Case(
        "tolerance-long",
        _with("vf_workers: 4", "vf_workers: 4\n  tolerance: 99999d"),
        names="tolerance",
    ),
    # huge counts
    Case("vf-workers", _with("vf_workers: 4", "vf_workers: 1000000000"), names="vf_workers"),
    Case(
        "hypervisors",
        _with("hypervisors_per_datacenter: 1", "hypervisors_per_datacenter: 1000000000"),
        names="hypervisors_per_datacenter",
    ),
    Case("datacenters", _with("vms: 2", "vms: 2\n  datacenters: 10000000"), names="datacenters"),
    Case(
        "open-sessions",
        _with("vf_workers: 4", "vf_workers: 4\n  open_sessions: 1000000000"),
        names="open_sessions",
    ),
    Case("vdcs", _with("vf_workers: 4", "vf_workers: 4\n  vdcs: 1000000000"), names="vdcs"),
    Case("disks", _with("vms: 2", "vms: 2\n  disks_per_vm: [1, 1000000]"), names="disks_per_vm"),
    # wrong types
    Case("vms-true", _with("vms: 2", "vms: true"), names="fleet.vms"),
    Case("vms-str", _with("vms: 2", "vms: !!str 3"), names="fleet.vms"),
    Case("vms-float", _with("vms: 2", "vms: 2.5"), names="fleet.vms"),
    Case("workers-str", _with("vf_workers: 4", 'vf_workers: "4"'), names="vf_workers"),
    Case(
        "replication-int",
        _with("retention: 2d", "retention: 2d\n    replication: 1"),
        names="replication",
    ),
    Case(
        "fleet-scalar",
        _with("fleet:\n  vms: 2", "fleet: 3\nx-fleet:\n  vms: 2"),
        names="fleet",
    ),
    Case("top-list", b"- 1\n- 2\n", names="mapping"),
    Case("top-huge-string", b"x" * 3_000_000, names="mapping"),
    Case("mistakes-2000", _timeline_mistakes(2_000), names="more problems"),
    # as many values as a file may hold, and one past that
    Case("values-at-bound", _values(19_990), names="description"),
    Case("nested-values-at-bound", _values(19_990, "[" * 40 + "]" * 40), names="description"),
    Case("values-past-bound", _values(20_100), names="20,000 values"),
    # size
    Case("oversized", BASE.encode() + b"#" * (11 << 20) + b"\n", names="bytes"),
)


def _limits(cpu_s: int) -> Callable[[], None]:
    def limit() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_BYTES, ADDRESS_SPACE_BYTES))

    return limit


@dataclass(frozen=True)
class Outcome:
    """How a case's run ended."""

    code: int
    stderr: str
    max_rss_mb: float


#: Runs bpcert and, at exit, writes the peak resident memory (kB) of itself (VmHWM) and
#: of the run it supervised, which reads the file (its child's ru_maxrss). The driver
#: measures itself: a forked child's rusage counts the parent's pages it started with.
_DRIVER = """\
import atexit, resource, runpy, sys
report = sys.argv.pop(1)
def peak():
    with open("/proc/self/status") as status:
        own = int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(report, "w") as out:
        out.write(str(max(own, child)))
atexit.register(peak)
runpy.run_module("conformance", run_name="__main__", alter_sys=True)
"""


def _run(case: Case, tmp: Path) -> Outcome:
    path = tmp / f"{case.label}.yaml"
    path.write_bytes(case.data)
    report = tmp / f"{case.label}.rss"
    command = [sys.executable, "-c", _DRIVER, str(report), "run", str(path)]
    command += ["--plugin", "reference", "--quiet", "--out", str(tmp / f"out-{case.label}")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp,
        preexec_fn=_limits(VALID_CPU_LIMIT_S if case.valid else CPU_LIMIT_S),
        check=False,
    )
    stderr = done.stderr.decode("utf-8", errors="replace")
    peak_kb = float(report.read_text()) if report.exists() else float("nan")
    return Outcome(done.returncode, stderr, peak_kb / 1024)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    tmp = tmp_path_factory.mktemp("fuzz")
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = pool.map(lambda case: (case.label, _run(case, tmp)), CASES)
        return dict(done)


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_a_hostile_scenario_file_is_a_usage_error_or_a_valid_run(
    case: Case, outcomes: dict[str, Outcome]
) -> None:
    got = outcomes[case.label]
    if case.valid:
        assert got.code in (ExitCode.OK, ExitCode.FINDINGS), got.stderr
        return
    assert got.code == ExitCode.USAGE, f"exit {got.code}:\n{got.stderr[-3000:]}"
    assert "Traceback" not in got.stderr
    message = " ".join(got.stderr.split())  # the terminal wraps long lines
    assert message.startswith("bpcert run: error: "), message[:2000]
    assert f"{case.label}.yaml" in message.split(": ")[2], message[:2000]  # the file
    assert case.names.lower() in message.lower(), message[:2000]
    assert len(got.stderr) < 20_000, "the message must not repeat the input"
    assert got.max_rss_mb < MAX_RSS_MB, f"a refusal used {got.max_rss_mb:.0f} MB"


def test_a_refusal_names_the_line_and_the_field(outcomes: dict[str, Outcome]) -> None:
    message = " ".join(outcomes["vms-true"].stderr.split())
    assert "vms-true.yaml:5:8: fleet.vms:" in message, message


# ---------------------------------------------------------- in-process mutation

_HOSTILE_VALUES = (
    "true",
    "!!str 3",
    "1.0e+308",
    "-1",
    "1e100",
    "99999999999999999999999",
    ".nan",
    "[1, [2, [3]]]",
    "{a: 1}",
    "null",
    "''",
    "&x [*x]",
    "9999-12-31T00:00:00Z",
    "1000000d",
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    line=st.integers(0, BASE.count("\n") - 1),
    value=st.sampled_from(_HOSTILE_VALUES) | st.text(max_size=12),
    junk=st.binary(max_size=4),
)
def test_a_mutated_scenario_loads_or_is_refused_with_a_scenario_error(
    line: int, value: str, junk: bytes
) -> None:
    lines = BASE.splitlines()
    key, sep, _ = lines[line].partition(":")
    lines[line] = f"{key}{sep} {value}" if sep else value
    text = "\n".join(lines) + junk.decode("latin-1")
    try:
        loaded = load_scenario_text(text, "mutant.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith("mutant.yaml")
        assert len(str(exc)) < 20_000
    else:
        assert isinstance(loaded, Scenario)
