"""Hypothesis strategies for every model of the plugin contract, valid and invalid.

Valid strategies build models that follow Abiquo's rules (``simulator.contract``):
a configuration's ``time`` in its periodicity's format, lower-case distinct weekdays
only on WEEKLY_PLANNED, disk sequence numbers as sources of COMPLETE and SNAPSHOT and
absolute paths as sources of FILESYSTEM, type/subtype pairs unique within a policy,
policy codes unique within a schedule, timezone-aware datetimes. Results are also
*well formed* in the sense the conformance checks judge (creation <= finish, a finish
date on every final result, expiration after creation, sizes >= 0), so that a plugin
author can use them as honest fixtures::

    from hypothesis import given
    from conformance.properties.strategies import backup_schedules, vm_infos

    @given(vm_infos(), backup_schedules())
    def test_my_plugin_accepts_any_schedule(vm, schedule): ...

Invalid strategies (``invalid_*_data``) build JSON-like ``dict`` inputs that the model
MUST refuse with a :class:`pydantic.ValidationError`: a bad time for the periodicity,
upper-case, unknown or repeated days, WEEKLY_PLANNED without days, days on another
periodicity, paths as sources of COMPLETE or SNAPSHOT, disk numbers as sources of
FILESYSTEM, a repeated type/subtype in a policy, naive datetimes, unknown fields, ...

:data:`MODEL_STRATEGIES` and :data:`INVALID_DATA_STRATEGIES` map each contract model
class to its strategies.
"""

from __future__ import annotations

from conformance.properties.invalid_data import (
    INVALID_DATA_STRATEGIES,
    invalid_backup_configuration_data,
    invalid_backup_policy_data,
    invalid_backup_result_data,
    invalid_backup_schedule_data,
    invalid_connection_data,
    invalid_connection_metadata_data,
    invalid_disk_data,
    invalid_on_demand_options_data,
    invalid_plugin_metadata_data,
    invalid_restore_result_data,
    invalid_vm_info_data,
)
from conformance.properties.valid_models import (
    MODEL_STRATEGIES,
    aware_datetimes,
    backup_configurations,
    backup_policies,
    backup_results,
    backup_schedules,
    clock_times,
    connection_data,
    connection_metadata,
    defined_times,
    disks,
    hourly_times,
    offsets,
    on_demand_options,
    plugin_metadata,
    policy_codes,
    restore_results,
    vm_infos,
)

__all__ = [
    "INVALID_DATA_STRATEGIES",
    "MODEL_STRATEGIES",
    "aware_datetimes",
    "backup_configurations",
    "backup_policies",
    "backup_results",
    "backup_schedules",
    "clock_times",
    "connection_data",
    "connection_metadata",
    "defined_times",
    "disks",
    "hourly_times",
    "invalid_backup_configuration_data",
    "invalid_backup_policy_data",
    "invalid_backup_result_data",
    "invalid_backup_schedule_data",
    "invalid_connection_data",
    "invalid_connection_metadata_data",
    "invalid_disk_data",
    "invalid_on_demand_options_data",
    "invalid_plugin_metadata_data",
    "invalid_restore_result_data",
    "invalid_vm_info_data",
    "offsets",
    "on_demand_options",
    "plugin_metadata",
    "policy_codes",
    "restore_results",
    "vm_infos",
]
