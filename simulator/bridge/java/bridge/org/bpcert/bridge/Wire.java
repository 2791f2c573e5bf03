package org.bpcert.bridge;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The wire side of the mapping (docs/protocol.md): the models' fields, the methods with
 * their parameters, and which methods each contract profile has.
 */
final class Wire {
    private Wire() {
    }

    /** One field of a wire model: a leaf, a nested model or an enum (by its wire name). */
    static final class Field {
        final String name;
        final String model;
        final String enumName;

        Field(final String name, final String model, final String enumName) {
            this.name = name;
            this.model = model;
            this.enumName = enumName;
        }
    }

    /** One method the harness sends: its Java names, parameters and result model. */
    static final class Method {
        final String wire;
        final List<String> javaNames;
        final List<String> params;
        final List<String> paramModels;
        final String resultModel;
        final boolean returnsNothing;

        Method(final String wire, final List<String> javaNames, final List<String> params,
            final List<String> paramModels, final String resultModel, final boolean returnsNothing) {
            this.wire = wire;
            this.javaNames = javaNames;
            this.params = params;
            this.paramModels = paramModels;
            this.resultModel = resultModel;
            this.returnsNothing = returnsNothing;
        }
    }

    static final Map<String, List<String>> ENUMS = new LinkedHashMap<>();
    static final Map<String, List<Field>> MODELS = new LinkedHashMap<>();
    static final Map<String, Method> METHODS = new LinkedHashMap<>();
    /** Profile id -> the wire methods (besides the lifecycle ones) a plugin must answer. */
    static final Map<String, List<String>> PROFILES = new LinkedHashMap<>();

    private static Field leaf(final String name) {
        return new Field(name, null, null);
    }

    private static Field nested(final String name, final String model) {
        return new Field(name, model, null);
    }

    private static Field enumerated(final String name, final String enumName) {
        return new Field(name, null, enumName);
    }

    private static void model(final String name, final Field... fields) {
        MODELS.put(name, Collections.unmodifiableList(Arrays.asList(fields)));
    }

    private static void method(final String wire, final String javaNames, final String params,
        final String resultModel, final boolean returnsNothing) {
        List<String> names = Arrays.asList(javaNames.split(","));
        List<String> paramNames = new java.util.ArrayList<>();
        List<String> models = new java.util.ArrayList<>();
        for (String param : params.isEmpty() ? new String[0] : params.split(",")) {
            String[] parts = param.split(":");
            paramNames.add(parts[0]);
            models.add(parts.length > 1 ? parts[1] : null);
        }
        METHODS.put(wire, new Method(wire, names, paramNames, models, resultModel, returnsNothing));
    }

    static {
        ENUMS.put("BackupType", Arrays.asList("COMPLETE", "SNAPSHOT", "FILESYSTEM"));
        ENUMS.put("Periodicity",
            Arrays.asList("DEFINED_HOUR", "HOURLY", "DAILY", "WEEKLY_PLANNED", "MONTHLY"));
        ENUMS.put("ResultState", Arrays.asList("IN_PROGRESS", "DONE", "FAILED", "UNKNOWN"));

        model("VirtualMachineInfo", leaf("uuid"), leaf("name"), leaf("datacenter"),
            leaf("hypervisor_type"), leaf("hypervisor_address"), nested("disks", "Disk"));
        model("Disk", leaf("sequence"), leaf("size_bytes"), leaf("path"));
        model("BackupConfiguration", enumerated("type", "BackupType"),
            enumerated("subtype", "Periodicity"), leaf("time"), leaf("days"), leaf("sources"));
        model("BackupPolicy", leaf("code"), leaf("name"), leaf("description"), leaf("replication"),
            nested("configurations", "BackupConfiguration"));
        model("BackupSchedule", nested("policies", "BackupPolicy"));
        model("OnDemandBackupOptions", leaf("replication"));
        model("BackupResult", leaf("provider_id"), leaf("vm_uuid"), leaf("name"),
            enumerated("type", "BackupType"), enumerated("state", "ResultState"),
            leaf("creation_date"), leaf("finish_date"), leaf("expiration_date"), leaf("size_bytes"),
            leaf("replication"), leaf("on_demand"), leaf("message"),
            nested("restores", "RestoreResult"));
        model("RestoreResult", leaf("provider_id"), leaf("backup_provider_id"),
            enumerated("state", "ResultState"), leaf("creation_date"), leaf("finish_date"),
            leaf("message"));
        model("ConnectionData", leaf("endpoint"), leaf("user"), leaf("password"));

        String vm = "vm:VirtualMachineInfo";
        method("applySchedule", "applySchedule", vm + ",schedule:BackupSchedule", null, true);
        // Abiquo 4.6 renamed the four-argument applySchedule to applyNewSchedule.
        method("applyNewSchedule", "applyNewSchedule,applySchedule",
            vm + ",old_schedule:BackupSchedule,new_schedule:BackupSchedule", null, true);
        method("removeSchedule", "removeSchedule", vm, null, true);
        method("executeBackup", "executeBackup", vm + ",options:OnDemandBackupOptions",
            "BackupResult", false);
        method("executeRestore", "executeRestore", vm + ",backup_id", "RestoreResult", false);
        method("listResults", "listResults", "last_check_date,in_progress_result_provider_ids",
            "BackupResult", false);
        method("getExpiredResults", "getExpiredResults", "provider_ids", null, false);
        method("isBackupExpired", "isBackupExpired", "backup_id", null, false);
        method("getBackupResult", "getBackupResult", "backup_id", "BackupResult", false);
        method("getRestoreResult", "getRestoreResult", "restore_id", "RestoreResult", false);
        method("listNewBackupResults", "listNewBackupResults", "start_date", "BackupResult", false);
        method("listNewRestoreResults", "listNewRestoreResults", "start_date", "RestoreResult",
            false);
        method("listVirtualMachinesInBackupPolicy", "listVirtualMachinesInBackupPolicy",
            "policy_code", null, false);

        List<String> schedules = Arrays.asList("applySchedule", "applyNewSchedule",
            "removeSchedule", "executeBackup", "executeRestore");
        PROFILES.put("abiquo-4.0.4", concat(schedules, "listResults", "getExpiredResults"));
        List<String> perId = concat(schedules, "isBackupExpired", "getBackupResult",
            "getRestoreResult", "listNewBackupResults", "listNewRestoreResults");
        PROFILES.put("abiquo-4.7", perId);
        PROFILES.put("abiquo-6.0", concat(perId, "listVirtualMachinesInBackupPolicy"));
    }

    private static List<String> concat(final List<String> head, final String... tail) {
        List<String> out = new java.util.ArrayList<>(head);
        out.addAll(Arrays.asList(tail));
        return Collections.unmodifiableList(out);
    }

    /** {@code size_bytes} -> {@code sizeBytes}. */
    static String camel(final String snake) {
        StringBuilder out = new StringBuilder();
        boolean upper = false;
        for (char c : snake.toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                out.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return out.toString();
    }
}
