// bpcert's modelled Abiquo API (docs/java.md): Abiquo never published these fields.
package com.abiquo.backup.model;

/** What a user asks of an on-demand backup. */
public class OnDemandBackupOptions implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private boolean replication;

    /** An empty instance; the setters fill it. */
    public OnDemandBackupOptions() {
    }

    public boolean isReplication() {
        return replication;
    }

    public void setReplication(final boolean replication) {
        this.replication = replication;
    }

    @Override
    public String toString() {
        return "OnDemandBackupOptions{" + "replication=" + replication + "}";
    }
}
