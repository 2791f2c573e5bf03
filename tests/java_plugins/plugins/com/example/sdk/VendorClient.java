package com.example.sdk;

/** Stands for a vendor SDK class that a plugin needs at run time. */
public class VendorClient {
    public void ping() {
    }
}
