"""Write ``report.json``: the report model, serialised deterministically.

The bytes come from :func:`reports.model.to_json`; this module only puts them on disk,
atomically, so a reader never sees a half-written report.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from reports.model import RunReport, to_json

__all__ = ["atomic_write", "utf8", "write_json"]


def utf8(text: str) -> bytes:
    """``text`` as UTF-8, a lone surrogate written as its ``\\uXXXX`` escape.

    A plugin's message can hold one (bytes decoded with ``surrogateescape``); strict
    UTF-8 would fail the whole report on it. In JSON the escape reads back as the same
    character; in HTML, XML and Markdown it shows as text.
    """
    return text.encode("utf-8", "backslashreplace")


def atomic_write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp makes the file private; reports are meant to be shared (CI artifacts).
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(report: RunReport, path: Path) -> Path:
    """Write ``report`` as ``report.json`` at ``path``; return ``path``."""
    return atomic_write(path, utf8(to_json(report)))
