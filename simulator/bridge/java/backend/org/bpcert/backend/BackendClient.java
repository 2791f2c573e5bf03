package org.bpcert.backend;

import com.abiquo.backup.model.BackupConfiguration;
import com.abiquo.backup.model.BackupPolicy;
import com.abiquo.backup.model.BackupResult;
import com.abiquo.backup.model.BackupType;
import com.abiquo.backup.model.Periodicity;
import com.abiquo.backup.model.VirtualMachineBackupRestoreInfo;
import java.lang.reflect.Type;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bpcert.bridge.Beans;
import org.bpcert.bridge.Channel;

/**
 * The fake backup system that bpcert simulates, reached through the harness with the
 * {@code backend/*} requests of docs/protocol.md §8 (the calls the Node.js example makes).
 *
 * <p>A real plugin calls its backup system's API instead; this client exists so that a Java
 * plugin can be judged by the rules that need the fake backup system's truth. Its methods
 * mirror {@code simulator.backend.backup_system.BackupSession} one to one and may only be
 * called while the bridge serves a call (from a plugin method or a connection's
 * connect/disconnect).
 */
public final class BackendClient {
    private BackendClient() {
    }

    private static Map<String, Object> params(final Object... pairs) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            out.put((String) pairs[i], pairs[i + 1]);
        }
        return out;
    }

    private static Object call(final String method, final Map<String, Object> params)
        throws BackendException {
        try {
            return Channel.backend(method, params);
        } catch (Channel.BackendFailure failure) {
            throw new BackendException(failure.kind(), failure.getMessage());
        }
    }

    private static Object wire(final Object value, final String model) {
        return Beans.toJson(value, model, model);
    }

    @SuppressWarnings("unchecked")
    private static <T> T java(final Object json, final Type type, final String model) {
        return (T) Beans.fromJson(json, type, model, "backend");
    }

    private static Type listOf(final Class<?> element) {
        return new java.lang.reflect.ParameterizedType() {
            @Override
            public Type[] getActualTypeArguments() {
                return new Type[] {element};
            }

            @Override
            public Type getRawType() {
                return List.class;
            }

            @Override
            public Type getOwnerType() {
                return null;
            }
        };
    }

    /** Opens a session at {@code endpoint}; {@code unreachable} or {@code auth} when refused. */
    public static String openSession(final String endpoint, final String user,
        final String password) throws BackendException {
        Object result = call("openSession", params("endpoint", endpoint, "user", user,
            "password", password));
        return String.valueOf(((Map<?, ?>) result).get("session"));
    }

    /** Closes a session; never fails. */
    public static void closeSession(final String session) {
        try {
            call("closeSession", params("session", session));
        } catch (BackendException ex) {
            // closing never fails the platform
        }
    }

    /** Creates or replaces the job (VM, policy code, type, subtype); returns the job id. */
    public static String putJob(final String session, final VirtualMachineBackupRestoreInfo vm,
        final BackupPolicy policy, final BackupConfiguration configuration)
        throws BackendException {
        return (String) call("putJob", params("session", session,
            "vm", wire(vm, "VirtualMachineInfo"), "policy", wire(policy, "BackupPolicy"),
            "configuration", wire(configuration, "BackupConfiguration")));
    }

    /** Deletes one job; true if it existed. */
    public static boolean deleteJob(final String session, final String vmUuid,
        final String policyCode, final BackupType type, final Periodicity subtype)
        throws BackendException {
        return Boolean.TRUE.equals(call("deleteJob", params("session", session, "vm_uuid", vmUuid,
            "policy_code", policyCode, "type", type.name(), "subtype", subtype.name())));
    }

    /** Deletes every job of the VM; returns how many it had. */
    public static int deleteJobs(final String session, final String vmUuid)
        throws BackendException {
        return ((Number) call("deleteJobs", params("session", session, "vm_uuid", vmUuid)))
            .intValue();
    }

    /** The VM's jobs. */
    public static List<Job> jobs(final String session, final String vmUuid)
        throws BackendException {
        List<?> items = (List<?>) call("jobs", params("session", session, "vm_uuid", vmUuid));
        List<Job> out = new ArrayList<>();
        for (Object item : items) {
            Map<?, ?> job = (Map<?, ?>) item;
            Job j = new Job();
            j.setVmUuid((String) job.get("vm_uuid"));
            j.setPolicyCode((String) job.get("policy_code"));
            j.setConfiguration(java(job.get("configuration"), BackupConfiguration.class,
                "BackupConfiguration"));
            j.setReplication(Boolean.TRUE.equals(job.get("replication")));
            out.add(j);
        }
        return out;
    }

    /** Starts an on-demand backup of every disk; returns its record. */
    public static BackupResult startBackup(final String session,
        final VirtualMachineBackupRestoreInfo vm, final boolean replication)
        throws BackendException {
        return java(call("startBackup", params("session", session, "vm",
            wire(vm, "VirtualMachineInfo"), "replication", replication)), BackupResult.class,
            "BackupResult");
    }

    /** Starts a restore of one of the VM's backups; returns its record. */
    public static BackupResult.RestoreResult startRestore(final String session,
        final String vmUuid, final String backupId) throws BackendException {
        return java(call("startRestore", params("session", session, "vm_uuid", vmUuid,
            "backup_id", backupId)), BackupResult.RestoreResult.class, "RestoreResult");
    }

    /**
     * Backups created or turned final at or after {@code since} (inclusive), also those with
     * a restore created or turned final then; with null, every backup not yet expired.
     */
    public static List<BackupResult> changedSince(final String session, final ZonedDateTime since)
        throws BackendException {
        return java(call("changedSince", params("session", session, "since",
            since == null ? null : wire(since, null))), listOf(BackupResult.class), "BackupResult");
    }

    /** Id -> backup record for the ids the backup system knows (a restore id maps to its backup). */
    public static Map<String, BackupResult> get(final String session, final List<String> ids)
        throws BackendException {
        Map<?, ?> found = (Map<?, ?>) call("get", params("session", session, "ids",
            new ArrayList<>(ids)));
        Map<String, BackupResult> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : found.entrySet()) {
            out.put((String) e.getKey(), java(e.getValue(), BackupResult.class, "BackupResult"));
        }
        return out;
    }

    /** The backup ids among {@code ids} that are past their expiration date. */
    @SuppressWarnings("unchecked")
    public static List<String> expired(final String session, final List<String> ids)
        throws BackendException {
        return new ArrayList<>((List<String>) call("expired", params("session", session, "ids",
            new ArrayList<>(ids))));
    }

    /**
     * The uuids of the VMs the backup system protects with the policy {@code policyCode}
     * (a job of that policy, or a change an administrator made in the backup system), sorted.
     */
    @SuppressWarnings("unchecked")
    public static List<String> policyVms(final String session, final String policyCode)
        throws BackendException {
        return new ArrayList<>((List<String>) call("policyVms", params("session", session,
            "policy_code", policyCode)));
    }

    /**
     * The simulated instant of the call being served. Under bpcert, time is simulated: a
     * plugin that reads the system clock sees the wrong day.
     */
    public static ZonedDateTime now() {
        return Channel.now();
    }
}
