// bpcert's modelled Abiquo API (docs/java.md).
package com.abiquo.backup.model;

/** The state of a backup or restore result; all but IN_PROGRESS are final. */
public enum ResultState {
    IN_PROGRESS, DONE, FAILED, UNKNOWN
}
