package com.example.backup.tests;

import com.abiquo.backup.model.BackupResult;
import com.abiquo.backup.model.VirtualMachineBackupRestoreInfo;
import com.example.backup.CustomBackupConnection;
import com.example.backup.CustomBackupPlugin;

/** A bug: executeRestore throws an IllegalArgumentException, not a BackupPluginException. */
public class ThrowingPlugin extends CustomBackupPlugin {
    @Override
    public BackupResult.RestoreResult executeRestore(final CustomBackupConnection connection,
        final VirtualMachineBackupRestoreInfo vm, final String backupId) {
        throw new IllegalArgumentException("no restore path for " + backupId);
    }
}
