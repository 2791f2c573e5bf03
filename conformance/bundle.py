"""The certification bundle: one ``.tar.gz`` holding a run directory and its manifest.

Layout of the archive::

    manifest.json        what was run, on what, by which bpcert, and the sha256 of every file
    run/...              the run directory (report.json, junit.xml, report.html, traces, plots)

The manifest names the plugin by its identity, the sha256 of the files it is made of (a
Python plugin's module file, a ``jar:`` plugin's jars, an ``exec:`` plugin's program and
scripts) and of its properties file, so that a verification can tell "the plugin changed"
from "the bundle changed". Hashes make accidental or careless changes visible; they are
not a signature (whoever can rewrite a file can rewrite the manifest too).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import shlex
import tarfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict

from conformance.replay import display_path
from conformance.run_dir import LOCK_FILE
from simulator.bridge.loader import installed_plugins

__all__ = [
    "BUNDLE_FORMAT",
    "MANIFEST",
    "BundleError",
    "FileDigest",
    "Manifest",
    "PluginIdentity",
    "plugin_files",
    "plugin_identity",
    "read_bundle",
    "sha256_bytes",
    "sha256_file",
    "write_bundle",
]

#: The manifest's format version.
BUNDLE_FORMAT = 1
#: The manifest's name in the archive.
MANIFEST = "manifest.json"
#: Where the run directory goes in the archive.
RUN_DIR = "run"


class BundleError(Exception):
    """A bundle that cannot be read: not a tar.gz, no manifest, an unsafe member."""


def sha256_bytes(data: bytes) -> str:
    """The hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """The hex sha256 of the file at ``path``, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FileDigest(BaseModel):
    """A file by its path (as printed, relative to the working directory when under it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    sha256: str


class PluginIdentity(BaseModel):
    """What the plugin is made of: its files and its properties, by their sha256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    spec: str
    isolation: str
    type: str | None = None
    version: str | None = None
    files: tuple[FileDigest, ...]
    #: The ``--properties`` file, or ``None`` when the plugin ran with its example properties.
    properties: FileDigest | None = None
    #: The sha256 of the example properties the plugin publishes (as a .properties text).
    example_properties_sha256: str | None = None


class Manifest(BaseModel):
    """``manifest.json``: everything a verification needs to re-run and compare."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bundle_format: int = BUNDLE_FORMAT
    bpcert_version: str
    created_at: str
    command: str
    profile: str
    guideline: dict[str, Any]
    rules_registry_sha256: str
    plugin: PluginIdentity
    run: dict[str, Any]
    environment: dict[str, str]
    verdict: dict[str, Any]
    files: dict[str, str]


def _module_file(target: str) -> Path | None:
    module = target.partition(":")[0]
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.has_location:
        return None
    return Path(spec.origin)


def _files_under(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        for inner in sorted(path.rglob("*")):
            if inner.is_file() and "__pycache__" not in inner.parts:
                yield inner


def plugin_files(spec: str) -> list[Path]:
    """The files a plugin spec is made of, in a stable order.

    - an installed name or ``module:Class``: the module's file;
    - ``jar:A.jar:B.jar:DIR``: every jar, and every file under a directory entry;
    - ``exec:COMMAND``: every word of the command that names an existing file (the
      program when given by its path, its scripts); a program found on ``PATH`` (``node``,
      ``java``) is the machine's, not the plugin's, and is left out.
    """
    if spec.startswith("jar:"):
        entries = [Path(e) for e in spec[len("jar:") :].split(os.pathsep) if e]
        return [f for entry in entries for f in _files_under(entry)]
    if spec.startswith("exec:"):
        words = shlex.split(spec[len("exec:") :])
        return [Path(w) for w in words if ("/" in w or Path(w).is_file()) and Path(w).is_file()]
    module_file = _module_file(installed_plugins().get(spec, spec))
    return [module_file] if module_file is not None else []


def _properties_text(properties: Mapping[str, str]) -> bytes:
    return "".join(f"{k}={v}\n" for k, v in sorted(properties.items())).encode("utf-8")


def plugin_identity(
    spec: str,
    isolation: str,
    *,
    plugin_class: type | None = None,
    properties_file: str | None = None,
) -> PluginIdentity:
    """The identity of the plugin as it is on disk now."""
    meta = getattr(plugin_class, "metadata", None)
    example = getattr(plugin_class, "example_properties", None)
    return PluginIdentity(
        spec=spec,
        isolation=isolation,
        type=getattr(meta, "type", None),
        version=getattr(meta, "version", None),
        files=tuple(
            FileDigest(path=display_path(f), sha256=sha256_file(f)) for f in plugin_files(spec)
        ),
        properties=(
            FileDigest(
                path=display_path(properties_file), sha256=sha256_file(Path(properties_file))
            )
            if properties_file is not None
            else None
        ),
        example_properties_sha256=(
            sha256_bytes(_properties_text(example)) if isinstance(example, Mapping) else None
        ),
    )


def run_dir_digests(run_dir: Path) -> dict[str, str]:
    """``run/<relative path>`` -> sha256 of every file under ``run_dir`` (its lock file,
    which says which process wrote it, left out)."""
    return {
        str(PurePosixPath(RUN_DIR, *path.relative_to(run_dir).parts)): sha256_file(path)
        for path in sorted(run_dir.rglob("*"))
        if path.is_file() and path.relative_to(run_dir) != Path(LOCK_FILE)
    }


def write_bundle(path: Path, run_dir: Path, manifest: Manifest) -> Path:
    """Write the archive: the manifest first, then every file of ``run_dir`` under ``run/``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n").encode("utf-8")
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        info.mode = 0o644
        info.mtime = 0
        tar.addfile(info, io.BytesIO(data))
        for name in manifest.files:
            source = run_dir.joinpath(*PurePosixPath(name).parts[1:])
            tar.add(source, arcname=name, recursive=False)
    return path


def _safe_name(name: str) -> str:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise BundleError(f"the bundle holds an unsafe path {name!r}")
    return str(pure)


def read_bundle(path: Path) -> tuple[Manifest, dict[str, bytes]]:
    """The manifest and the contents of every other file of the archive at ``path``.

    Raises :class:`BundleError` for a file that is not a readable tar.gz, a member that
    is not a regular file or a directory, a path outside the archive, or a missing or
    malformed manifest.
    """
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                name = _safe_name(member.name)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BundleError(f"{path}: {name} is not a regular file")
                handle = tar.extractfile(member)
                if handle is None:  # pragma: no cover - isfile() members always have one
                    raise BundleError(f"{path}: {name} cannot be read")
                files[name] = handle.read()
    except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
        raise BundleError(f"{path}: not a readable .tar.gz bundle ({exc})") from None
    raw = files.pop(MANIFEST, None)
    if raw is None:
        raise BundleError(f"{path}: no {MANIFEST} in the bundle")
    try:
        manifest = Manifest.model_validate_json(raw)
    except ValueError as exc:
        raise BundleError(f"{path}: {MANIFEST} is malformed: {exc}") from None
    return manifest, files
