"""The self-test's registry: every deliberately broken plugin (mutant), and the rule it breaks.

Each mutant is the reference plugin with **one** bug of the kind vendors really ship, and
names in its docstring the rule id that should catch it. It lives beside the rules it
breaks: the mutants of :mod:`conformance.rules.startup` in :mod:`conformance.selftest.startup`,
and so on for every capability. This module puts them together: :data:`MUTANTS` maps a
kebab-case mutant name to ``(class, intended rule id)``, in the order of the rules'
capabilities; :data:`NO_MUTANT` lists the rules no in-process mutant breaks through the
built-in scenarios, with the reason. ``tests/test_selftest.py`` runs every mutant through
the default scenarios and expects its rule to fail, and ``docs/mutants.md`` lists them.

Every mutant class is importable from here too, so a plugin spec such as::

    bpcert check --plugin conformance.selftest.mutants:SessionLeakPlugin   # exits 1 naming the rule

works for any of them. :class:`CachedLoginPlugin` (in :mod:`conformance.selftest.honest`)
is an honest variant of the reference that several mutants build on.

None of this is an example to follow. The bugs are written plainly on purpose.
"""

from __future__ import annotations

from conformance.selftest import (
    connections,
    data,
    errors,
    expiry,
    on_demand,
    polling,
    schedules,
    startup,
)
from conformance.selftest.connections import (
    ConnectBuiltinErrorPlugin,
    ConnectGenericExceptionPlugin,
    DisconnectRaisesPlugin,
    PasswordCachePlugin,
    SessionLeakPlugin,
)
from conformance.selftest.data import (
    RestoresLatestBackupPlugin,
)
from conformance.selftest.errors import (
    BackupReturnsDictPlugin,
    BackupReturnsNonePlugin,
    ExpiredReturnsSetPlugin,
    FailedResultOnOutagePlugin,
    NotFoundAsBackendPlugin,
    NotFoundAsVmNotFoundPlugin,
    RestoreKeyErrorPlugin,
    SwallowScheduleFailurePlugin,
    TimeRequiredPlugin,
    UndeclaredFilesystemPlugin,
    UnsupportedRaisesBackendPlugin,
    UntranslatedBackendErrorPlugin,
    WaitsForUnindexedIdPlugin,
)
from conformance.selftest.expiry import (
    ExpiredPagesOverlapPlugin,
    ExpiresDayEarlyPlugin,
    NeverExpiresPlugin,
    RecentExpiryLogPlugin,
    UpperCaseExpiredIdsPlugin,
)
from conformance.selftest.honest import CachedLoginConnection, CachedLoginPlugin
from conformance.selftest.on_demand import (
    AcceptedTaskAsDonePlugin,
    IgnoresReplicationPlugin,
    OnDemandFlagUnsetPlugin,
    OnDemandStuckPlugin,
    PreviousRestorePointPlugin,
    RestoreOntoOwnerPlugin,
    RestoreReportsBackupIdPlugin,
    RestoreUnknownAsFailedPlugin,
    TaskIdPlugin,
)
from conformance.selftest.polling import (
    DoneWithoutFinishDatePlugin,
    DuplicateIdsPlugin,
    EmptyListOnFailurePlugin,
    ExclusiveWindowPlugin,
    FlipsDoneToFailedPlugin,
    IgnoresAskedIdsPlugin,
    NegativeSizePlugin,
    OmitsUnknownIdsPlugin,
    OnlyFinalResultsPlugin,
    ServerLocalWindowPlugin,
    UnknownAsFailedPlugin,
    WallClockPlugin,
)
from conformance.selftest.schedules import (
    AddOnlyNewSchedulePlugin,
    CounterJobKeyPlugin,
    HidesUnscheduledVmResultsPlugin,
    IgnoresOffsetPlugin,
    NoopRemoveSchedulePlugin,
)
from conformance.selftest.startup import (
    CachedFirstListingPlugin,
    DefaultAccountPlugin,
    ForgottenConnectionMetadataPlugin,
    KeyErrorValidatePlugin,
    LaxValidatePlugin,
    NoSupportedVersionsPlugin,
    UndocumentedPropertyPlugin,
    UpperCaseTypePlugin,
)

#: The capabilities' self-test modules, in the order their rules are listed.
_CAPABILITIES = (startup, connections, schedules, on_demand, errors, polling, expiry, data)

#: Mutant name -> (plugin class, the rule id it is meant to break).
MUTANTS: dict[str, tuple[type, str]] = {
    name: entry for capability in _CAPABILITIES for name, entry in capability.MUTANTS.items()
}

#: Rules no in-process mutant breaks through the built-in scenarios, with the reason.
NO_MUTANT: dict[str, tuple[None, str]] = {
    **errors.NO_MUTANT,
    **polling.NO_MUTANT,
}

__all__ = [
    "MUTANTS",
    "NO_MUTANT",
    "AcceptedTaskAsDonePlugin",
    "AddOnlyNewSchedulePlugin",
    "BackupReturnsDictPlugin",
    "BackupReturnsNonePlugin",
    "CachedFirstListingPlugin",
    "CachedLoginConnection",
    "CachedLoginPlugin",
    "ConnectBuiltinErrorPlugin",
    "ConnectGenericExceptionPlugin",
    "CounterJobKeyPlugin",
    "DefaultAccountPlugin",
    "DisconnectRaisesPlugin",
    "DoneWithoutFinishDatePlugin",
    "DuplicateIdsPlugin",
    "EmptyListOnFailurePlugin",
    "ExclusiveWindowPlugin",
    "ExpiredPagesOverlapPlugin",
    "ExpiredReturnsSetPlugin",
    "ExpiresDayEarlyPlugin",
    "FailedResultOnOutagePlugin",
    "FlipsDoneToFailedPlugin",
    "ForgottenConnectionMetadataPlugin",
    "HidesUnscheduledVmResultsPlugin",
    "IgnoresAskedIdsPlugin",
    "IgnoresOffsetPlugin",
    "IgnoresReplicationPlugin",
    "KeyErrorValidatePlugin",
    "LaxValidatePlugin",
    "NegativeSizePlugin",
    "NeverExpiresPlugin",
    "NoSupportedVersionsPlugin",
    "NoopRemoveSchedulePlugin",
    "NotFoundAsBackendPlugin",
    "NotFoundAsVmNotFoundPlugin",
    "OmitsUnknownIdsPlugin",
    "OnDemandFlagUnsetPlugin",
    "OnDemandStuckPlugin",
    "OnlyFinalResultsPlugin",
    "PasswordCachePlugin",
    "PreviousRestorePointPlugin",
    "RecentExpiryLogPlugin",
    "RestoreKeyErrorPlugin",
    "RestoreOntoOwnerPlugin",
    "RestoreReportsBackupIdPlugin",
    "RestoreUnknownAsFailedPlugin",
    "RestoresLatestBackupPlugin",
    "ServerLocalWindowPlugin",
    "SessionLeakPlugin",
    "SwallowScheduleFailurePlugin",
    "TaskIdPlugin",
    "TimeRequiredPlugin",
    "UndeclaredFilesystemPlugin",
    "UndocumentedPropertyPlugin",
    "UnknownAsFailedPlugin",
    "UnsupportedRaisesBackendPlugin",
    "UntranslatedBackendErrorPlugin",
    "UpperCaseExpiredIdsPlugin",
    "UpperCaseTypePlugin",
    "WaitsForUnindexedIdPlugin",
    "WallClockPlugin",
]
