// bpcert's modelled Abiquo API, all three profiles (docs/java.md): abiquo-4.0.4 (Abiquo
// 4.0.4 to 4.6), abiquo-4.7 (4.7.0 to 5.4.x) and abiquo-6.0 (6.0 onwards). The generations
// share most of the interface, so each profile's jar is built from this file: the lines
// after `//@ only PROFILE...` are in those profiles' interface only, up to the next marker;
// `//@ end` starts the lines that every profile has. Each jar still holds one
// BackupScheduling with exactly its generation's methods, as Abiquo's own jars do.
package com.abiquo.backup.plugin;

import com.abiquo.backup.model.BackupResult;
import com.abiquo.backup.model.BackupSchedule;
import com.abiquo.backup.model.OnDemandBackupOptions;
import com.abiquo.backup.model.VirtualMachineBackupRestoreInfo;
import com.abiquo.backup.plugin.exception.BackupPluginException;
import com.abiquo.commons.plugin.IConnection;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Set;
//@ only abiquo-4.7 abiquo-6.0
import java.util.Optional;
//@ end

/**
 * A backup plugin, found through {@code
 * META-INF/services/com.abiquo.backup.plugin.BackupScheduling}. Up to Abiquo 4.6 the
 * platform checks results with {@code listResults} and {@code getExpiredResults}; from 4.7
 * it polls them by id; from 6.0 it also synchronises backup policies with the backup system.
 *
 * @param <C> the plugin's connection class, built by the platform for every operation
 */
public interface BackupScheduling<C extends IConnection> {
    /** Fails when the plugin's own configuration is missing or wrong (checked at load). */
    void validateConfiguration() throws IllegalStateException;

    /** Configure the backups of a VM that was just deployed. */
    void applySchedule(C connection, VirtualMachineBackupRestoreInfo vm, BackupSchedule schedule)
        throws BackupPluginException;
//@ only abiquo-4.0.4

    /** Some of a deployed VM's backup configuration changed: make the changes effective. */
    void applySchedule(C connection, VirtualMachineBackupRestoreInfo vm, BackupSchedule oldSchedule,
        BackupSchedule newSchedule) throws BackupPluginException;
//@ only abiquo-4.7 abiquo-6.0

    /** Some of a deployed VM's backup configuration changed (Abiquo 4.6 renamed it). */
    void applyNewSchedule(C connection, VirtualMachineBackupRestoreInfo vm,
        BackupSchedule oldSchedule, BackupSchedule newSchedule) throws BackupPluginException;
//@ end

    /** The VM will be undeployed: remove its backup configuration. */
    void removeSchedule(C connection, VirtualMachineBackupRestoreInfo vm)
        throws BackupPluginException;

    /** A user asked for a backup now. */
    BackupResult executeBackup(C connection, VirtualMachineBackupRestoreInfo vm,
        OnDemandBackupOptions options) throws BackupPluginException;

    /** A user asked to restore the VM from one of its backups. */
    BackupResult.RestoreResult executeRestore(C connection, VirtualMachineBackupRestoreInfo vm,
        String backupId) throws BackupPluginException;
//@ only abiquo-4.0.4

    /**
     * Results created or turned final at or after {@code lastCheckDate} (every one when it is
     * null), plus the current state of every id in {@code inProgressResultProviderIds}.
     */
    List<BackupResult> listResults(C connection, ZonedDateTime lastCheckDate,
        Set<String> inProgressResultProviderIds) throws BackupPluginException;

    /** The ids among {@code providerIds} whose backups have expired. */
    List<String> getExpiredResults(C connection, List<String> providerIds)
        throws BackupPluginException;
//@ only abiquo-4.7 abiquo-6.0

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
//@ only abiquo-6.0

    /** The uuids of the VMs that the backup system protects with the policy {@code policyCode}. */
    Set<String> listVirtualMachinesInBackupPolicy(C connection, String policyCode)
        throws BackupPluginException;
//@ end
}
