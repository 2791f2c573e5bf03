package com.example.backup.tests;

import com.abiquo.backup.model.BackupResult;
import com.abiquo.backup.model.OnDemandBackupOptions;
import com.abiquo.backup.model.VirtualMachineBackupRestoreInfo;
import com.example.backup.CustomBackupConnection;
import com.example.backup.CustomBackupPlugin;

/** Never returns from executeBackup (it sleeps, so that the loop costs no CPU). */
public class LoopingPlugin extends CustomBackupPlugin {
    @Override
    public BackupResult executeBackup(final CustomBackupConnection connection,
        final VirtualMachineBackupRestoreInfo vm, final OnDemandBackupOptions options) {
        System.err.println("LoopingPlugin: waiting forever in executeBackup");
        while (true) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                // keep waiting
            }
        }
    }
}
