package com.example.backup.tests;

import com.example.backup.CustomBackupConnection;
import com.example.backup.CustomBackupPlugin;
import java.util.ArrayList;
import java.util.List;

/** getExpiredResults reports every id it is asked about, live backups included. */
public class ExpiringPlugin extends CustomBackupPlugin {
    @Override
    public List<String> getExpiredResults(final CustomBackupConnection connection,
        final List<String> providerIds) {
        return new ArrayList<>(providerIds);
    }
}
