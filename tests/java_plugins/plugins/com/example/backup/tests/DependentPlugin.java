package com.example.backup.tests;

import com.abiquo.backup.model.BackupResult;
import com.abiquo.backup.plugin.exception.BackupPluginException;
import com.example.backup.CustomBackupConnection;
import com.example.backup.CustomBackupPlugin;
import com.example.sdk.VendorClient;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Set;

/** Needs the vendor's SDK (com.example.sdk), which its jar leaves out. */
public class DependentPlugin extends CustomBackupPlugin {
    @Override
    public List<BackupResult> listResults(final CustomBackupConnection connection,
        final ZonedDateTime lastCheckDate, final Set<String> ids) throws BackupPluginException {
        new VendorClient().ping();
        return super.listResults(connection, lastCheckDate, ids);
    }
}
