// bpcert's modelled Abiquo API (docs/java.md): Abiquo never published these fields.
package com.abiquo.backup.model;

import java.util.ArrayList;
import java.util.List;

/** A backup policy: its code (unique per datacenter) and its configurations. */
public class BackupPolicy implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private String code;
    private String name;
    private String description = "";
    private boolean replication;
    private List<BackupConfiguration> configurations = new ArrayList<>();

    /** An empty instance; the setters fill it. */
    public BackupPolicy() {
    }

    public String getCode() {
        return code;
    }

    public void setCode(final String code) {
        this.code = code;
    }

    public String getName() {
        return name;
    }

    public void setName(final String name) {
        this.name = name;
    }

    public String getDescription() {
        return description;
    }

    public void setDescription(final String description) {
        this.description = description;
    }

    public boolean isReplication() {
        return replication;
    }

    public void setReplication(final boolean replication) {
        this.replication = replication;
    }

    public List<BackupConfiguration> getConfigurations() {
        return configurations;
    }

    public void setConfigurations(final List<BackupConfiguration> configurations) {
        this.configurations = configurations;
    }

    @Override
    public String toString() {
        return "BackupPolicy{" + "code=" + code + ", " + "name=" + name + ", " + "description=" + description + ", " + "replication=" + replication + ", " + "configurations=" + configurations + "}";
    }
}
