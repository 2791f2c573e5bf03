package org.bpcert.backend;

import com.abiquo.backup.model.BackupConfiguration;

/** One job of the fake backup system: a VM's configuration of one policy. */
public class Job {
    private String vmUuid;
    private String policyCode;
    private BackupConfiguration configuration;
    private boolean replication;

    public String getVmUuid() {
        return vmUuid;
    }

    public void setVmUuid(final String vmUuid) {
        this.vmUuid = vmUuid;
    }

    public String getPolicyCode() {
        return policyCode;
    }

    public void setPolicyCode(final String policyCode) {
        this.policyCode = policyCode;
    }

    public BackupConfiguration getConfiguration() {
        return configuration;
    }

    public void setConfiguration(final BackupConfiguration configuration) {
        this.configuration = configuration;
    }

    public boolean isReplication() {
        return replication;
    }

    public void setReplication(final boolean replication) {
        this.replication = replication;
    }
}
