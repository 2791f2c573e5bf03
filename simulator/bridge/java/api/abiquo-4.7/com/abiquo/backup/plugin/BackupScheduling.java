// bpcert's modelled Abiquo API, profile abiquo-4.7 (Abiquo 4.7.0 to 5.4.x; docs/java.md).
package com.abiquo.backup.plugin;

import com.abiquo.backup.model.BackupResult;
import com.abiquo.backup.model.BackupSchedule;
import com.abiquo.backup.model.OnDemandBackupOptions;
import com.abiquo.backup.model.VirtualMachineBackupRestoreInfo;
import com.abiquo.backup.plugin.exception.BackupPluginException;
import com.abiquo.commons.plugin.IConnection;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Optional;

/**
 * A backup plugin of Abiquo 4.7 to 5.4: results are polled by id.
 *
 * @param <C> the plugin's connection class, built by the platform for every operation
 */
public interface BackupScheduling<C extends IConnection> {
    /** Fails when the plugin's own configuration is missing or wrong (checked at load). */
    void validateConfiguration() throws IllegalStateException;

    /** Configure the backups of a VM that was just deployed. */
    void applySchedule(C connection, VirtualMachineBackupRestoreInfo vm, BackupSchedule schedule)
        throws BackupPluginException;

    /** Some of a deployed VM's backup configuration changed (Abiquo 4.6 renamed it). */
    void applyNewSchedule(C connection, VirtualMachineBackupRestoreInfo vm,
        BackupSchedule oldSchedule, BackupSchedule newSchedule) throws BackupPluginException;

    /** The VM will be undeployed: remove its backup configuration. */
    void removeSchedule(C connection, VirtualMachineBackupRestoreInfo vm)
        throws BackupPluginException;

    /** A user asked for a backup now. */
    BackupResult executeBackup(C connection, VirtualMachineBackupRestoreInfo vm,
        OnDemandBackupOptions options) throws BackupPluginException;

    /** A user asked to restore the VM from one of its backups. */
    BackupResult.RestoreResult executeRestore(C connection, VirtualMachineBackupRestoreInfo vm,
        String backupId) throws BackupPluginException;

    /** Whether the backup system has removed the backup (billing stops when true). */
    boolean isBackupExpired(C connection, String backupId) throws BackupPluginException;

    /** The current state of a backup, or null when the backup system does not know the id. */
    BackupResult getBackupResult(C connection, String backupId) throws BackupPluginException;

    /** The current state of a restore, or null when the backup system does not know the id. */
    BackupResult.RestoreResult getRestoreResult(C connection, String restoreId)
        throws BackupPluginException;

    /** At least every backup result created at or after the start (all when empty). */
    List<BackupResult> listNewBackupResults(C connection,
        Optional<ZonedDateTime> startDateFromLastProcessedResult) throws BackupPluginException;

    /** At least every restore result created at or after the start (all when empty). */
    List<BackupResult.RestoreResult> listNewRestoreResults(C connection,
        Optional<ZonedDateTime> startDateFromLastProcessedResult) throws BackupPluginException;
}
