"""What the fake backup system reports: its records, ground-truth records and their ids.

Session records (:class:`BackupRecord`, :class:`RestoreRecord`) are what a plugin sees;
:class:`TruthBackup`, :class:`TruthRestore` and :class:`MissedOccurrence` are what only
the harness sees. Ids are canonical (``bk-00000001``): :func:`format_id` writes them and
:func:`parse_id` reads them back to the index behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple

from simulator.contract import (
    BackupConfiguration,
    BackupResult,
    BackupType,
    Periodicity,
    RestoreResult,
    ResultState,
)

__all__ = [
    "BACKUP_ID",
    "BACKUP_PREFIX",
    "ID_DIGITS",
    "RESTORE_PREFIX",
    "BackupRecord",
    "JobView",
    "MissedOccurrence",
    "RestoreRecord",
    "TruthBackup",
    "TruthRestore",
    "format_id",
    "parse_id",
]


class RestoreRecord(NamedTuple):
    """A restore as a session reports it, a snapshot at the instant of the call.

    Records are named tuples: a check builds one per result in its window, and a tuple
    costs a third of a frozen dataclass.
    """

    provider_id: str
    backup_provider_id: str
    state: ResultState
    creation_date: datetime
    finish_date: datetime | None
    message: str | None


class BackupRecord(NamedTuple):
    """A backup as a session reports it, a snapshot at the instant of the call.

    ``finish_date`` and ``expiration_date`` are ``None`` while it is in progress.
    """

    provider_id: str
    vm_uuid: str
    name: str
    type: BackupType
    state: ResultState
    creation_date: datetime
    finish_date: datetime | None
    expiration_date: datetime | None
    size_bytes: int
    replication: bool
    on_demand: bool
    message: str | None
    restores: tuple[RestoreRecord, ...]


# A record carries its contract model's fields, in the same order: the reference plugin
# and the process-isolation server convert one into the other field by field.
if BackupRecord._fields != tuple(BackupResult.model_fields) or RestoreRecord._fields != tuple(
    RestoreResult.model_fields
):  # pragma: no cover - a broken edit of either side
    raise ImportError("the backend's records must have their contract models' fields, in order")


@dataclass(frozen=True, slots=True)
class JobView:
    """A job of the schedule, as :meth:`BackupSession.jobs` lists it."""

    vm_uuid: str
    policy_code: str
    configuration: BackupConfiguration
    replication: bool


@dataclass(frozen=True, slots=True)
class TruthBackup:
    """A backup the system really took, with what only the truth knows.

    ``planned_finish_date`` is known from creation on; ``state`` is as of the query.
    ``policy_code``, ``subtype`` and ``occurrence_date`` are ``None`` for on-demand backups.
    """

    provider_id: str
    vm_uuid: str
    policy_code: str | None
    type: BackupType
    subtype: Periodicity | None
    occurrence_date: datetime | None
    creation_date: datetime
    planned_finish_date: datetime
    expiration_date: datetime
    state: ResultState
    size_bytes: int
    replication: bool
    on_demand: bool
    disk_sequences: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TruthRestore:
    """A restore the system ran.

    ``verified`` is ``None`` until the restore finishes, and for a restore that FAILED
    (the simulated failure is the backup system's, not the plugin's, and touches no disk).
    For a DONE restore it says whether every disk the backup holds had, at the instant the
    restore finished, exactly the content captured when the backup was created.
    """

    provider_id: str
    backup_provider_id: str
    vm_uuid: str
    state: ResultState
    creation_date: datetime
    planned_finish_date: datetime
    verified: bool | None


@dataclass(frozen=True, slots=True)
class MissedOccurrence:
    """A scheduled occurrence that produced no backup, and why.

    ``outage``: it fell inside an outage. ``cancelled``: it was due (and waiting for its
    start delay) when its job was deleted or replaced.
    """

    vm_uuid: str
    policy_code: str
    type: BackupType
    subtype: Periodicity
    occurrence_date: datetime
    reason: Literal["outage", "cancelled"]


BACKUP_PREFIX = "bk-"
RESTORE_PREFIX = "rs-"
_ID_DIGITS = 8
#: Digits of a canonical id (for parsers that inline :func:`parse_id`'s common case).
ID_DIGITS = _ID_DIGITS
BACKUP_ID = f"{BACKUP_PREFIX}%0{_ID_DIGITS}d"  # the same as format_id(BACKUP_PREFIX, b)


# ------------------------------------------------------------------------- ids


def format_id(prefix: str, index: int) -> str:
    """The canonical id of the record at ``index`` (from 0): ``bk-00000001`` for 0."""
    return f"{prefix}{index + 1:0{_ID_DIGITS}d}"


def parse_id(prefix: str, value: object, count: int) -> int | None:
    """The index behind a canonical id such as ``bk-00000001``, or ``None``."""
    if not isinstance(value, str) or not value.startswith(prefix):
        return None
    digits = value[len(prefix) :]
    if not digits.isdigit() or not digits.isascii():
        return None
    # Canonical as format_id writes it: zero-padded to _ID_DIGITS, no other leading zero.
    if len(digits) != _ID_DIGITS and (len(digits) < _ID_DIGITS or digits[0] == "0"):
        return None
    index = int(digits) - 1
    if not 0 <= index < count:
        return None
    return index
