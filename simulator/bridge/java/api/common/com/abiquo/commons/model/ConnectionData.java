// bpcert's modelled Abiquo API (docs/java.md): Abiquo never published these fields.
package com.abiquo.commons.model;

/** Where and as whom to reach the backup manager: each field may be null. */
public class ConnectionData implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private String endpoint;
    private String user;
    private String password;

    /** An empty instance; the setters fill it. */
    public ConnectionData() {
    }

    public String getEndpoint() {
        return endpoint;
    }

    public void setEndpoint(final String endpoint) {
        this.endpoint = endpoint;
    }

    public String getUser() {
        return user;
    }

    public void setUser(final String user) {
        this.user = user;
    }

    public String getPassword() {
        return password;
    }

    public void setPassword(final String password) {
        this.password = password;
    }

    @Override
    public String toString() {
        return "ConnectionData{" + "endpoint=" + endpoint + ", " + "user=" + user + ", " + "password=" + password + "}";
    }
}
