// bpcert's modelled Abiquo API, profile abiquo-4.0.4 (Abiquo 4.0.4 to 4.6; docs/java.md).
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

/**
 * A backup plugin of Abiquo 4.0.4 to 4.6, found through
 * {@code META-INF/services/com.abiquo.backup.plugin.BackupScheduling}.
 *
 * @param <C> the plugin's connection class, built by the platform for every operation
 */
public interface BackupScheduling<C extends IConnection> {
    /** Fails when the plugin's own configuration is missing or wrong (checked at load). */
    void validateConfiguration() throws IllegalStateException;

    /** Configure the backups of a VM that was just deployed. */
    void applySchedule(C connection, VirtualMachineBackupRestoreInfo vm, BackupSchedule schedule)
        throws BackupPluginException;

    /** Some of a deployed VM's backup configuration changed: make the changes effective. */
    void applySchedule(C connection, VirtualMachineBackupRestoreInfo vm, BackupSchedule oldSchedule,
        BackupSchedule newSchedule) throws BackupPluginException;

    /** The VM will be undeployed: remove its backup configuration. */
    void removeSchedule(C connection, VirtualMachineBackupRestoreInfo vm)
        throws BackupPluginException;

    /** A user asked for a backup now. */
    BackupResult executeBackup(C connection, VirtualMachineBackupRestoreInfo vm,
        OnDemandBackupOptions options) throws BackupPluginException;

    /** A user asked to restore the VM from one of its backups. */
    BackupResult.RestoreResult executeRestore(C connection, VirtualMachineBackupRestoreInfo vm,
        String backupId) throws BackupPluginException;

    /**
     * Results created or turned final at or after {@code lastCheckDate} (every one when it is
     * null), plus the current state of every id in {@code inProgressResultProviderIds}.
     */
    List<BackupResult> listResults(C connection, ZonedDateTime lastCheckDate,
        Set<String> inProgressResultProviderIds) throws BackupPluginException;

    /** The ids among {@code providerIds} whose backups have expired. */
    List<String> getExpiredResults(C connection, List<String> providerIds)
        throws BackupPluginException;
}
