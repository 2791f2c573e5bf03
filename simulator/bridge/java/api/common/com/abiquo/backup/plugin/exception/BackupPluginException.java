// bpcert's modelled Abiquo API (docs/java.md).
package com.abiquo.backup.plugin.exception;

/** The only exception a backup plugin operation may throw. */
public class BackupPluginException extends Exception {
    private static final long serialVersionUID = 1L;

    private final BackupPluginError error;

    public BackupPluginException(final BackupPluginError error, final String message) {
        super(message);
        this.error = error;
    }

    public BackupPluginException(final BackupPluginError error, final String message,
        final Throwable cause) {
        super(message, cause);
        this.error = error;
    }

    public BackupPluginError getError() {
        return error;
    }
}
