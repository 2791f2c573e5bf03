// bpcert's modelled Abiquo API (docs/java.md).
package com.abiquo.backup.model;

/** When a backup configuration fires (its {@code subtype}). */
public enum Periodicity {
    DEFINED_HOUR, HOURLY, DAILY, WEEKLY_PLANNED, MONTHLY
}
