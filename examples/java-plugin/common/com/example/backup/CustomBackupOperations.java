package com.example.backup;

import com.abiquo.backup.model.BackupConfiguration;
import com.abiquo.backup.model.BackupPolicy;
import com.abiquo.backup.model.BackupResult;
import com.abiquo.backup.model.BackupSchedule;
import com.abiquo.backup.model.OnDemandBackupOptions;
import com.abiquo.backup.model.VirtualMachineBackupRestoreInfo;
import com.abiquo.backup.plugin.exception.BackupPluginError;
import com.abiquo.backup.plugin.exception.BackupPluginException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.bpcert.backend.BackendClient;
import org.bpcert.backend.BackendException;
import org.bpcert.backend.Job;

/**
 * What every Abiquo generation of the plugin does the same way: the configuration, the
 * schedules, on-demand backups and restores; each generation's CustomBackupPlugin extends
 * it and adds its results methods. It keeps the reference plugin's habits
 * (simulator/reference.py): all state lives in the backup system, schedule calls converge
 * the backup system to the schedule they are given (so repeating one changes nothing), and
 * only BackupPluginException leaves an operation.
 */
public abstract class CustomBackupOperations {
    static final String TYPE = "java-example";
    static final String TIMEOUT_PROPERTY = "example.timeout.seconds";
    static final String REPLICATION_PROPERTY = "example.replication.enabled";
    static final String UNKNOWN_MESSAGE = "the backup system no longer knows this id";

    /** Fails fast at load time, so a broken properties file never reaches a VM task. */
    public void validateConfiguration() throws IllegalStateException {
        replicationEnabled();
    }

    // ------------------------------------------------------------------ configuration

    /** Whether replication is enabled; throws IllegalStateException naming every bad property. */
    static boolean replicationEnabled() {
        String path = System.getProperty("abiquo.backup." + TYPE + ".config.path");
        Properties properties = new Properties();
        if (path != null) {
            try (InputStream in = Files.newInputStream(Paths.get(path))) {
                properties.load(in);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read the configuration " + path + ": " + e);
            }
        }
        List<String> problems = new ArrayList<>();
        String timeout = properties.getProperty(TIMEOUT_PROPERTY);
        if (timeout == null || timeout.trim().isEmpty()) {
            problems.add(TIMEOUT_PROPERTY + " is missing; set it to a positive number of seconds");
        } else if (!timeout.trim().matches("[0-9]+") || Long.parseLong(timeout.trim()) <= 0) {
            problems.add(TIMEOUT_PROPERTY + " must be a positive whole number, got '" + timeout + "'");
        }
        String replication = properties.getProperty(REPLICATION_PROPERTY);
        if (replication == null || replication.trim().isEmpty()) {
            problems.add(REPLICATION_PROPERTY + " is missing; set it to 'true' or 'false'");
        } else if (!replication.trim().equalsIgnoreCase("true")
            && !replication.trim().equalsIgnoreCase("false")) {
            problems.add(REPLICATION_PROPERTY + " must be 'true' or 'false', got '" + replication + "'");
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException(String.join("; ", problems));
        }
        return replication.trim().equalsIgnoreCase("true");
    }

    static void refuseReplication(final String operation, final boolean asked)
        throws BackupPluginException {
        boolean enabled;
        try {
            enabled = replicationEnabled();
        } catch (IllegalStateException e) {
            throw new BackupPluginException(BackupPluginError.BACKEND, e.getMessage());
        }
        if (asked && !enabled) {
            throw new BackupPluginException(BackupPluginError.UNSUPPORTED,
                operation + ": replication is disabled (" + REPLICATION_PROPERTY + "=false)");
        }
    }

    // ------------------------------------------------------------------ errors

    /** A backend error as the BackupPluginException the platform expects. */
    static BackupPluginException translated(final String operation, final BackendException e,
        final BackupPluginError notFound, final BackupPluginError invalid) {
        BackupPluginError code;
        switch (e.kind()) {
            case "unreachable":
            case "auth":
                code = BackupPluginError.CONNECTION;
                break;
            case "not_found":
                code = notFound;
                break;
            case "not_restorable":
                code = BackupPluginError.BACKUP_NOT_RESTORABLE;
                break;
            case "invalid":
                code = invalid;
                break;
            default:
                code = BackupPluginError.BACKEND;
        }
        return new BackupPluginException(code, operation + ": " + e.getMessage(), e);
    }

    static BackupPluginException translated(final String operation, final BackendException e) {
        return translated(operation, e, BackupPluginError.BACKUP_NOT_FOUND, BackupPluginError.BACKEND);
    }

    static String session(final CustomBackupConnection connection) throws BackupPluginException {
        if (connection == null || connection.session() == null) {
            throw new BackupPluginException(BackupPluginError.CONNECTION,
                "expected a connected CustomBackupConnection");
        }
        return connection.session();
    }

    // ------------------------------------------------------------------ schedules

    private static String key(final String policyCode, final BackupConfiguration c) {
        return policyCode + "/" + c.getType() + "/" + c.getSubtype();
    }

    /** Makes the VM's jobs exactly the schedule's: put each one, drop any other. */
    private static void converge(final String session, final VirtualMachineBackupRestoreInfo vm,
        final BackupSchedule schedule) throws BackendException {
        Set<String> wanted = new HashSet<>();
        for (BackupPolicy policy : schedule.getPolicies()) {
            for (BackupConfiguration c : policy.getConfigurations()) {
                wanted.add(key(policy.getCode(), c));
                BackendClient.putJob(session, vm, policy, c);
            }
        }
        for (Job job : BackendClient.jobs(session, vm.getUuid())) {
            BackupConfiguration c = job.getConfiguration();
            if (!wanted.contains(key(job.getPolicyCode(), c))) {
                BackendClient.deleteJob(session, vm.getUuid(), job.getPolicyCode(), c.getType(),
                    c.getSubtype());
            }
        }
    }

    public void applySchedule(final CustomBackupConnection connection,
        final VirtualMachineBackupRestoreInfo vm, final BackupSchedule schedule)
        throws BackupPluginException {
        String session = session(connection);
        for (BackupPolicy policy : schedule.getPolicies()) {
            refuseReplication("applySchedule", policy.isReplication());
        }
        try {
            converge(session, vm, schedule);
        } catch (BackendException e) {
            throw translated("applySchedule", e, BackupPluginError.VM_NOT_FOUND,
                BackupPluginError.INVALID_SCHEDULE);
        }
    }

    /** Drops what the old schedule had and the new one lacks, then converges to the new one. */
    public void applyNewSchedule(final CustomBackupConnection connection,
        final VirtualMachineBackupRestoreInfo vm, final BackupSchedule oldSchedule,
        final BackupSchedule newSchedule) throws BackupPluginException {
        String session = session(connection);
        for (BackupPolicy policy : newSchedule.getPolicies()) {
            refuseReplication("applyNewSchedule", policy.isReplication());
        }
        Set<String> kept = new HashSet<>();
        for (BackupPolicy policy : newSchedule.getPolicies()) {
            for (BackupConfiguration c : policy.getConfigurations()) {
                kept.add(key(policy.getCode(), c));
            }
        }
        try {
            for (BackupPolicy policy : oldSchedule.getPolicies()) {
                for (BackupConfiguration c : policy.getConfigurations()) {
                    if (!kept.contains(key(policy.getCode(), c))) {
                        BackendClient.deleteJob(session, vm.getUuid(), policy.getCode(), c.getType(),
                            c.getSubtype());
                    }
                }
            }
            converge(session, vm, newSchedule);
        } catch (BackendException e) {
            throw translated("applyNewSchedule", e, BackupPluginError.VM_NOT_FOUND,
                BackupPluginError.INVALID_SCHEDULE);
        }
    }

    /** Deletes every job of the VM (before undeploy). Its backups stay until they expire. */
    public void removeSchedule(final CustomBackupConnection connection,
        final VirtualMachineBackupRestoreInfo vm) throws BackupPluginException {
        String session = session(connection);
        try {
            BackendClient.deleteJobs(session, vm.getUuid());
        } catch (BackendException e) {
            throw translated("removeSchedule", e, BackupPluginError.VM_NOT_FOUND,
                BackupPluginError.BACKEND);
        }
    }

    // ------------------------------------------------------------------ on demand

    public BackupResult executeBackup(final CustomBackupConnection connection,
        final VirtualMachineBackupRestoreInfo vm, final OnDemandBackupOptions options)
        throws BackupPluginException {
        String session = session(connection);
        refuseReplication("executeBackup", options.isReplication());
        try {
            return BackendClient.startBackup(session, vm, options.isReplication());
        } catch (BackendException e) {
            throw translated("executeBackup", e, BackupPluginError.VM_NOT_FOUND,
                BackupPluginError.BACKEND);
        }
    }

    /** Restores the VM from one of its own backups; the ownership check changes nothing. */
    public BackupResult.RestoreResult executeRestore(final CustomBackupConnection connection,
        final VirtualMachineBackupRestoreInfo vm, final String backupId)
        throws BackupPluginException {
        String session = session(connection);
        try {
            List<String> ids = new ArrayList<>();
            ids.add(backupId);
            BackupResult record = BackendClient.get(session, ids).get(backupId);
            if (record == null || !backupId.equals(record.getProviderId())
                || !vm.getUuid().equals(record.getVmUuid())) {
                throw new BackupPluginException(BackupPluginError.BACKUP_NOT_FOUND,
                    "executeRestore: VM " + vm.getUuid() + " has no backup '" + backupId + "'");
            }
            return BackendClient.startRestore(session, vm.getUuid(), backupId);
        } catch (BackendException e) {
            throw translated("executeRestore", e);
        }
    }
}
