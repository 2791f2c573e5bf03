package com.example.backup.tests;

import com.example.backup.CustomBackupPlugin;

/** Starts a thread that outlives the instance: the JVM cannot vouch for the next one. */
public class ThreadingPlugin extends CustomBackupPlugin {
    public ThreadingPlugin() {
        Thread keeper = new Thread(() -> {
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "threading-plugin-keeper");
        keeper.setDaemon(true);
        keeper.start();
    }
}
