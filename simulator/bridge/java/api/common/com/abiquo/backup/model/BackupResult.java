// bpcert's modelled Abiquo API (docs/java.md): Abiquo never published these fields.
package com.abiquo.backup.model;

import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;

/** A backup, as the backup system reports it, with its restores. */
public class BackupResult implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private String providerId;
    private String vmUuid;
    private String name;
    private BackupType type;
    private ResultState state;
    private ZonedDateTime creationDate;
    private ZonedDateTime finishDate;
    private ZonedDateTime expirationDate;
    private long sizeBytes;
    private boolean replication;
    private boolean onDemand;
    private String message;
    private List<RestoreResult> restores = new ArrayList<>();

    /** An empty instance; the setters fill it. */
    public BackupResult() {
    }

    public String getProviderId() {
        return providerId;
    }

    public void setProviderId(final String providerId) {
        this.providerId = providerId;
    }

    public String getVmUuid() {
        return vmUuid;
    }

    public void setVmUuid(final String vmUuid) {
        this.vmUuid = vmUuid;
    }

    public String getName() {
        return name;
    }

    public void setName(final String name) {
        this.name = name;
    }

    public BackupType getType() {
        return type;
    }

    public void setType(final BackupType type) {
        this.type = type;
    }

    public ResultState getState() {
        return state;
    }

    public void setState(final ResultState state) {
        this.state = state;
    }

    public ZonedDateTime getCreationDate() {
        return creationDate;
    }

    public void setCreationDate(final ZonedDateTime creationDate) {
        this.creationDate = creationDate;
    }

    public ZonedDateTime getFinishDate() {
        return finishDate;
    }

    public void setFinishDate(final ZonedDateTime finishDate) {
        this.finishDate = finishDate;
    }

    public ZonedDateTime getExpirationDate() {
        return expirationDate;
    }

    public void setExpirationDate(final ZonedDateTime expirationDate) {
        this.expirationDate = expirationDate;
    }

    public long getSizeBytes() {
        return sizeBytes;
    }

    public void setSizeBytes(final long sizeBytes) {
        this.sizeBytes = sizeBytes;
    }

    public boolean isReplication() {
        return replication;
    }

    public void setReplication(final boolean replication) {
        this.replication = replication;
    }

    public boolean isOnDemand() {
        return onDemand;
    }

    public void setOnDemand(final boolean onDemand) {
        this.onDemand = onDemand;
    }

    public String getMessage() {
        return message;
    }

    public void setMessage(final String message) {
        this.message = message;
    }

    public List<RestoreResult> getRestores() {
        return restores;
    }

    public void setRestores(final List<RestoreResult> restores) {
        this.restores = restores;
    }

    @Override
    public String toString() {
        return "BackupResult{" + "providerId=" + providerId + ", " + "vmUuid=" + vmUuid + ", " + "name=" + name + ", " + "type=" + type + ", " + "state=" + state + ", " + "creationDate=" + creationDate + ", " + "finishDate=" + finishDate + ", " + "expirationDate=" + expirationDate + ", " + "sizeBytes=" + sizeBytes + ", " + "replication=" + replication + ", " + "onDemand=" + onDemand + ", " + "message=" + message + ", " + "restores=" + restores + "}";
    }

    /** A restore of a backup, as the backup system reports it. */
    public static class RestoreResult implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        private String providerId;
        private String backupProviderId;
        private ResultState state;
        private ZonedDateTime creationDate;
        private ZonedDateTime finishDate;
        private String message;

        /** An empty instance; the setters fill it. */
        public RestoreResult() {
        }

        public String getProviderId() {
            return providerId;
        }

        public void setProviderId(final String providerId) {
            this.providerId = providerId;
        }

        public String getBackupProviderId() {
            return backupProviderId;
        }

        public void setBackupProviderId(final String backupProviderId) {
            this.backupProviderId = backupProviderId;
        }

        public ResultState getState() {
            return state;
        }

        public void setState(final ResultState state) {
            this.state = state;
        }

        public ZonedDateTime getCreationDate() {
            return creationDate;
        }

        public void setCreationDate(final ZonedDateTime creationDate) {
            this.creationDate = creationDate;
        }

        public ZonedDateTime getFinishDate() {
            return finishDate;
        }

        public void setFinishDate(final ZonedDateTime finishDate) {
            this.finishDate = finishDate;
        }

        public String getMessage() {
            return message;
        }

        public void setMessage(final String message) {
            this.message = message;
        }

        @Override
        public String toString() {
            return "RestoreResult{" + "providerId=" + providerId + ", " + "backupProviderId=" + backupProviderId + ", " + "state=" + state + ", " + "creationDate=" + creationDate + ", " + "finishDate=" + finishDate + ", " + "message=" + message + "}";
        }
    }
}
