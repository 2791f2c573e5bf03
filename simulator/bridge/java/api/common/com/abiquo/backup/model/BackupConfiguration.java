// bpcert's modelled Abiquo API (docs/java.md): Abiquo never published these fields.
package com.abiquo.backup.model;

import java.util.ArrayList;
import java.util.List;

/** One configuration of a policy: a type, a periodicity and its time, days and sources. */
public class BackupConfiguration implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private BackupType type;
    private Periodicity subtype;
    private String time;
    private List<String> days = new ArrayList<>();
    private List<String> sources = new ArrayList<>();

    /** An empty instance; the setters fill it. */
    public BackupConfiguration() {
    }

    public BackupType getType() {
        return type;
    }

    public void setType(final BackupType type) {
        this.type = type;
    }

    public Periodicity getSubtype() {
        return subtype;
    }

    public void setSubtype(final Periodicity subtype) {
        this.subtype = subtype;
    }

    public String getTime() {
        return time;
    }

    public void setTime(final String time) {
        this.time = time;
    }

    public List<String> getDays() {
        return days;
    }

    public void setDays(final List<String> days) {
        this.days = days;
    }

    public List<String> getSources() {
        return sources;
    }

    public void setSources(final List<String> sources) {
        this.sources = sources;
    }

    @Override
    public String toString() {
        return "BackupConfiguration{" + "type=" + type + ", " + "subtype=" + subtype + ", " + "time=" + time + ", " + "days=" + days + ", " + "sources=" + sources + "}";
    }
}
