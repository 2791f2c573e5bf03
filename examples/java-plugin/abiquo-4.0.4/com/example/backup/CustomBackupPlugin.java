package com.example.backup;

import com.abiquo.backup.model.BackupResult;
import com.abiquo.backup.model.BackupSchedule;
import com.abiquo.backup.model.BackupType;
import com.abiquo.backup.model.ResultState;
import com.abiquo.backup.model.VirtualMachineBackupRestoreInfo;
import com.abiquo.backup.plugin.BackupScheduling;
import com.abiquo.backup.plugin.annotation.BackupConnectionMetadata;
import com.abiquo.backup.plugin.exception.BackupPluginException;
import com.abiquo.commons.plugin.annotation.PluginMetadata;
import com.abiquo.commons.plugin.enumerator.FieldConstraint;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bpcert.backend.BackendClient;
import org.bpcert.backend.BackendException;

/**
 * The example plugin for Abiquo 4.0.4 to 4.6 (profile abiquo-4.0.4): the results check
 * polls with listResults and getExpiredResults.
 */
@PluginMetadata(type = CustomBackupOperations.TYPE, friendlyName = "bpcert example plugin (Java)",
    version = "1.0.0", supportedVersions = {"1.0", "1.5"})
@BackupConnectionMetadata(endpoint = FieldConstraint.MANDATORY,
    credentials = FieldConstraint.MANDATORY)
public class CustomBackupPlugin extends CustomBackupOperations
    implements BackupScheduling<CustomBackupConnection> {
    private static final Comparator<BackupResult> BY_CREATION =
        Comparator.comparing((BackupResult r) -> r.getCreationDate().toInstant())
            .thenComparing(BackupResult::getProviderId);

    /** Abiquo 4.0.4's name for the four-argument overload (applyNewSchedule from 4.6). */
    @Override
    public void applySchedule(final CustomBackupConnection connection,
        final VirtualMachineBackupRestoreInfo vm, final BackupSchedule oldSchedule,
        final BackupSchedule newSchedule) throws BackupPluginException {
        applyNewSchedule(connection, vm, oldSchedule, newSchedule);
    }

    /**
     * What changed since the last check, plus the current state of every id asked about. An
     * id the backup system no longer knows is answered with state UNKNOWN and placeholders.
     * Ordered by creation date, then provider id, so that it is the same on every run.
     */
    @Override
    public List<BackupResult> listResults(final CustomBackupConnection connection,
        final ZonedDateTime lastCheckDate, final Set<String> inProgressResultProviderIds)
        throws BackupPluginException {
        String session = CustomBackupOperations.session(connection);
        List<String> asked = new ArrayList<>(new TreeSet<>(inProgressResultProviderIds));
        Map<String, BackupResult> byId = new LinkedHashMap<>();
        Map<String, BackupResult> current;
        try {
            for (BackupResult record : BackendClient.changedSince(session, lastCheckDate)) {
                byId.put(record.getProviderId(), record);
            }
            List<String> missing = new ArrayList<>();
            for (String id : asked) {
                if (!byId.containsKey(id)) {
                    missing.add(id);
                }
            }
            current = BackendClient.get(session, missing);
        } catch (BackendException e) {
            throw CustomBackupOperations.translated("listResults", e);
        }
        for (BackupResult record : current.values()) { // a restore id is answered by its backup
            byId.put(record.getProviderId(), record);
        }
        List<BackupResult> results = new ArrayList<>(byId.values());
        for (String id : asked) {
            if (!current.containsKey(id) && !byId.containsKey(id)) {
                BackupResult unknown = new BackupResult();
                unknown.setProviderId(id);
                unknown.setVmUuid("");
                unknown.setName(id);
                unknown.setType(BackupType.COMPLETE);
                unknown.setState(ResultState.UNKNOWN);
                unknown.setCreationDate(BackendClient.now());
                unknown.setMessage(CustomBackupOperations.UNKNOWN_MESSAGE);
                results.add(unknown);
            }
        }
        results.sort(BY_CREATION);
        return results;
    }

    /** Asks the backup system which of these backups are past their expiration date. */
    @Override
    public List<String> getExpiredResults(final CustomBackupConnection connection,
        final List<String> providerIds) throws BackupPluginException {
        String session = CustomBackupOperations.session(connection);
        try {
            return BackendClient.expired(session, providerIds);
        } catch (BackendException e) {
            throw CustomBackupOperations.translated("getExpiredResults", e);
        }
    }
}
