// bpcert's modelled Abiquo API (docs/java.md).
package com.abiquo.backup.plugin.exception;

/** What went wrong in a plugin operation; the platform acts on the code. */
public enum BackupPluginError {
    CONNECTION, INVALID_SCHEDULE, VM_NOT_FOUND, BACKUP_NOT_FOUND, BACKUP_NOT_RESTORABLE, UNSUPPORTED,
    BACKEND, TIMEOUT
}
