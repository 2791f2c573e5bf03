package com.example.backup;

import com.abiquo.backup.model.BackupResult;
import com.abiquo.backup.plugin.BackupScheduling;
import com.abiquo.backup.plugin.annotation.BackupConnectionMetadata;
import com.abiquo.backup.plugin.exception.BackupPluginException;
import com.abiquo.commons.plugin.annotation.PluginMetadata;
import com.abiquo.commons.plugin.enumerator.FieldConstraint;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bpcert.backend.BackendClient;
import org.bpcert.backend.BackendException;

/**
 * The example plugin for Abiquo 6.0 and later (profile abiquo-6.0): the API polls results
 * by id, and synchronises backup policies with listVirtualMachinesInBackupPolicy.
 */
@PluginMetadata(type = CustomBackupOperations.TYPE, friendlyName = "bpcert example plugin (Java)",
    version = "1.0.0", supportedVersions = {"1.0", "1.5"})
@BackupConnectionMetadata(endpoint = FieldConstraint.MANDATORY,
    credentials = FieldConstraint.MANDATORY)
public class CustomBackupPlugin extends CustomBackupOperations
    implements BackupScheduling<CustomBackupConnection> {
    private static final Comparator<BackupResult.RestoreResult> BY_CREATION =
        Comparator.comparing((BackupResult.RestoreResult r) -> r.getCreationDate().toInstant())
            .thenComparing(BackupResult.RestoreResult::getProviderId);

    /** Whether the backup system has removed the backup (its retention ran out). */
    @Override
    public boolean isBackupExpired(final CustomBackupConnection connection, final String backupId)
        throws BackupPluginException {
        String session = CustomBackupOperations.session(connection);
        try {
            return BackendClient.expired(session, Collections.singletonList(backupId))
                .contains(backupId);
        } catch (BackendException e) {
            throw CustomBackupOperations.translated("isBackupExpired", e);
        }
    }

    /**
     * The backup as the backup system has it now; null if it does not know the id. The
     * backend answers a restore id with its parent backup: another id's result, not returned.
     */
    @Override
    public BackupResult getBackupResult(final CustomBackupConnection connection,
        final String backupId) throws BackupPluginException {
        BackupResult record = record(connection, backupId, "getBackupResult");
        return record != null && backupId.equals(record.getProviderId()) ? record : null;
    }

    /** The restore as the backup system has it now; null if it does not know the id. */
    @Override
    public BackupResult.RestoreResult getRestoreResult(final CustomBackupConnection connection,
        final String restoreId) throws BackupPluginException {
        BackupResult record = record(connection, restoreId, "getRestoreResult");
        if (record != null) {
            for (BackupResult.RestoreResult restore : record.getRestores()) {
                if (restoreId.equals(restore.getProviderId())) {
                    return restore;
                }
            }
        }
        return null;
    }

    private static BackupResult record(final CustomBackupConnection connection, final String id,
        final String operation) throws BackupPluginException {
        String session = CustomBackupOperations.session(connection);
        try {
            return BackendClient.get(session, Collections.singletonList(id)).get(id);
        } catch (BackendException e) {
            throw CustomBackupOperations.translated(operation, e);
        }
    }

    /**
     * Every backup created at or after the start, and more: the backend's window also holds
     * older backups that finished or had a restore since. Repeats are harmless (the platform
     * upserts by provider id). Ordered by creation date, then provider id.
     */
    @Override
    public List<BackupResult> listNewBackupResults(final CustomBackupConnection connection,
        final Optional<ZonedDateTime> start) throws BackupPluginException {
        String session = CustomBackupOperations.session(connection);
        try {
            return BackendClient.changedSince(session, start.orElse(null));
        } catch (BackendException e) {
            throw CustomBackupOperations.translated("listNewBackupResults", e);
        }
    }

    /** Every restore created at or after the start, ordered by creation date, then id. */
    @Override
    public List<BackupResult.RestoreResult> listNewRestoreResults(
        final CustomBackupConnection connection, final Optional<ZonedDateTime> start)
        throws BackupPluginException {
        String session = CustomBackupOperations.session(connection);
        List<BackupResult> records;
        try {
            records = BackendClient.changedSince(session, start.orElse(null));
        } catch (BackendException e) {
            throw CustomBackupOperations.translated("listNewRestoreResults", e);
        }
        List<BackupResult.RestoreResult> restores = new ArrayList<>();
        for (BackupResult record : records) {
            for (BackupResult.RestoreResult restore : record.getRestores()) {
                if (!start.isPresent()
                    || !restore.getCreationDate().toInstant().isBefore(start.get().toInstant())) {
                    restores.add(restore);
                }
            }
        }
        restores.sort(BY_CREATION);
        return restores;
    }

    /** The VMs the backup system protects with the policy, its own changes included. */
    @Override
    public Set<String> listVirtualMachinesInBackupPolicy(final CustomBackupConnection connection,
        final String policyCode) throws BackupPluginException {
        String session = CustomBackupOperations.session(connection);
        try {
            return new LinkedHashSet<>(BackendClient.policyVms(session, policyCode));
        } catch (BackendException e) {
            throw CustomBackupOperations.translated("listVirtualMachinesInBackupPolicy", e);
        }
    }
}
