// bpcert's modelled Abiquo API (docs/java.md): Abiquo never published these fields.
package com.abiquo.backup.model;

import java.util.ArrayList;
import java.util.List;

/** A virtual machine's backup policies. */
public class BackupSchedule implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private List<BackupPolicy> policies = new ArrayList<>();

    /** An empty instance; the setters fill it. */
    public BackupSchedule() {
    }

    public List<BackupPolicy> getPolicies() {
        return policies;
    }

    public void setPolicies(final List<BackupPolicy> policies) {
        this.policies = policies;
    }

    @Override
    public String toString() {
        return "BackupSchedule{" + "policies=" + policies + "}";
    }
}
