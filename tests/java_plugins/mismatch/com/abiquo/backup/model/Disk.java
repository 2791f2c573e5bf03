package com.abiquo.backup.model;

/** A vendor's Disk whose properties are named otherwise: size (not sizeBytes), no path. */
public class Disk {
    private int sequence;
    private long size;

    public int getSequence() {
        return sequence;
    }

    public void setSequence(final int sequence) {
        this.sequence = sequence;
    }

    public long getSize() {
        return size;
    }

    public void setSize(final long size) {
        this.size = size;
    }
}
