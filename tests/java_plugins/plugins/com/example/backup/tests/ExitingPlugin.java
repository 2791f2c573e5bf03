package com.example.backup.tests;

import com.abiquo.backup.model.BackupResult;
import com.abiquo.backup.model.OnDemandBackupOptions;
import com.abiquo.backup.model.VirtualMachineBackupRestoreInfo;
import com.example.backup.CustomBackupConnection;
import com.example.backup.CustomBackupPlugin;

/** Calls System.exit in executeBackup: the JVM dies during the call. */
public class ExitingPlugin extends CustomBackupPlugin {
    @Override
    public BackupResult executeBackup(final CustomBackupConnection connection,
        final VirtualMachineBackupRestoreInfo vm, final OnDemandBackupOptions options) {
        System.err.println("ExitingPlugin: giving up on " + vm.getName() + ", System.exit(3)");
        System.exit(3);
        return null;
    }
}
