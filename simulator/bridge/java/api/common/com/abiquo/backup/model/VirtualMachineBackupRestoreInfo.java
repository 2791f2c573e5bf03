// bpcert's modelled Abiquo API (docs/java.md): Abiquo never published these fields.
package com.abiquo.backup.model;

import java.util.ArrayList;
import java.util.List;

/** The virtual machine a backup operation is about (wire: VirtualMachineInfo). */
public class VirtualMachineBackupRestoreInfo implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private String uuid;
    private String name;
    private String datacenter;
    private String hypervisorType;
    private String hypervisorAddress;
    private List<Disk> disks = new ArrayList<>();

    /** An empty instance; the setters fill it. */
    public VirtualMachineBackupRestoreInfo() {
    }

    public String getUuid() {
        return uuid;
    }

    public void setUuid(final String uuid) {
        this.uuid = uuid;
    }

    public String getName() {
        return name;
    }

    public void setName(final String name) {
        this.name = name;
    }

    public String getDatacenter() {
        return datacenter;
    }

    public void setDatacenter(final String datacenter) {
        this.datacenter = datacenter;
    }

    public String getHypervisorType() {
        return hypervisorType;
    }

    public void setHypervisorType(final String hypervisorType) {
        this.hypervisorType = hypervisorType;
    }

    public String getHypervisorAddress() {
        return hypervisorAddress;
    }

    public void setHypervisorAddress(final String hypervisorAddress) {
        this.hypervisorAddress = hypervisorAddress;
    }

    public List<Disk> getDisks() {
        return disks;
    }

    public void setDisks(final List<Disk> disks) {
        this.disks = disks;
    }

    @Override
    public String toString() {
        return "VirtualMachineBackupRestoreInfo{" + "uuid=" + uuid + ", " + "name=" + name + ", " + "datacenter=" + datacenter + ", " + "hypervisorType=" + hypervisorType + ", " + "hypervisorAddress=" + hypervisorAddress + ", " + "disks=" + disks + "}";
    }
}
