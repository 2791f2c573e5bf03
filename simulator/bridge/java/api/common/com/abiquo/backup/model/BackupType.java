// bpcert's modelled Abiquo API (docs/java.md).
package com.abiquo.backup.model;

/** What a backup configuration copies. */
public enum BackupType {
    COMPLETE, SNAPSHOT, FILESYSTEM
}
