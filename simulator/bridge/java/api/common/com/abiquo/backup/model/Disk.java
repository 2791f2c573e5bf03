// bpcert's modelled Abiquo API (docs/java.md): Abiquo never published these fields.
package com.abiquo.backup.model;

/** A disk of a virtual machine: {@code sequence} 0 is the boot disk. */
public class Disk implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private int sequence;
    private long sizeBytes;
    private String path;

    /** An empty instance; the setters fill it. */
    public Disk() {
    }

    public int getSequence() {
        return sequence;
    }

    public void setSequence(final int sequence) {
        this.sequence = sequence;
    }

    public long getSizeBytes() {
        return sizeBytes;
    }

    public void setSizeBytes(final long sizeBytes) {
        this.sizeBytes = sizeBytes;
    }

    public String getPath() {
        return path;
    }

    public void setPath(final String path) {
        this.path = path;
    }

    @Override
    public String toString() {
        return "Disk{" + "sequence=" + sequence + ", " + "sizeBytes=" + sizeBytes + ", " + "path=" + path + "}";
    }
}
