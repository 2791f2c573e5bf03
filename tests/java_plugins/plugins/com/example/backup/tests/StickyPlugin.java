package com.example.backup.tests;

import com.example.backup.CustomBackupPlugin;

/**
 * Remembers its instances in a static field and in a system property, and says so in
 * validateConfiguration: a second instance that sees either shares the first one's memory.
 */
public class StickyPlugin extends CustomBackupPlugin {
    private static int instances;

    public StickyPlugin() {
        instances++;
    }

    @Override
    public void validateConfiguration() {
        String before = System.getProperty("sticky.plugin");
        System.setProperty("sticky.plugin", "set by an earlier instance");
        if (instances > 1 || before != null) {
            throw new IllegalStateException("this instance sees another: " + instances
                + " instances in this class, sticky.plugin=" + before);
        }
        super.validateConfiguration();
    }
}
