#!/usr/bin/env node
// An Abiquo backup plugin in Node.js (>= 18), with no dependencies, speaking the bpcert
// JSON-RPC plugin protocol (docs/protocol.md) over stdin/stdout.
//
// It mirrors the reference plugin (simulator/reference.py): every state lives in the
// backup system, reached through the harness with backend/* requests; schedule calls
// converge the backup system's jobs to the schedule they are given (so repeating one
// changes nothing); only contract exceptions leave a method; time is the `now` of the
// request, never the wall clock.
//
//   bpcert check --plugin "exec:node examples/node-plugin/plugin.js"
//
// A real plugin replaces backend(...) with calls to its backup system's API.

"use strict";

const readline = require("node:readline");

// stdout carries protocol lines only: anything logged goes to stderr.
console.log = console.error;
console.info = console.error;

const TIMEOUT_PROPERTY = "example.timeout.seconds";
const REPLICATION_PROPERTY = "example.replication.enabled";
const UNKNOWN_MESSAGE = "the backup system no longer knows this id";

const DESCRIPTION = {
  metadata: {
    type: "node-example",
    friendly_name: "bpcert example plugin (Node.js)",
    version: "1.0.0",
    supported_versions: ["1.0", "1.5"], // the backup system's versions, not Abiquo's
  },
  connection_metadata: { endpoint: "MANDATORY", credentials: "MANDATORY" },
  unsupported_operations: [],
  supported_backup_types: ["COMPLETE", "SNAPSHOT", "FILESYSTEM"],
  supported_periodicities: ["DEFINED_HOUR", "HOURLY", "DAILY", "WEEKLY_PLANNED", "MONTHLY"],
  example_properties: { [TIMEOUT_PROPERTY]: "30", [REPLICATION_PROPERTY]: "true" },
  protocol_version: "1",
  // Every generation; bpcert runs the newest, abiquo-6.0, unless --profile says otherwise.
  profiles: ["abiquo-4.0.4", "abiquo-4.7", "abiquo-6.0"],
};

// ------------------------------------------------------------------------ exceptions

// A contract exception: travels as error.data {exception, code, message}.
class PluginException extends Error {
  constructor(exception, code, message) {
    super(message);
    this.exception = exception;
    this.code = code;
  }
}

const backupPluginException = (code, message) =>
  new PluginException("BackupPluginException", code, message);
const connectionError = (message) =>
  new PluginException("PluginConnectionError", "CONNECTION", message);
const configurationError = (message) =>
  new PluginException("ConfigurationError", undefined, message);

// An error the harness answered a backend/* request with; `kind` as in docs/protocol.md.
class BackendError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

// ------------------------------------------------------------------------- channel

const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
const pendingLines = [];
let waitingForLine = null;
let inputClosed = false;

input.on("line", (line) => {
  if (waitingForLine) {
    const resolve = waitingForLine;
    waitingForLine = null;
    resolve(line);
  } else {
    pendingLines.push(line);
  }
});
input.on("close", () => {
  inputClosed = true;
  if (waitingForLine) {
    const resolve = waitingForLine;
    waitingForLine = null;
    resolve(null);
  }
});

function nextLine() {
  if (pendingLines.length > 0) return Promise.resolve(pendingLines.shift());
  if (inputClosed) return Promise.resolve(null);
  return new Promise((resolve) => {
    waitingForLine = resolve;
  });
}

function send(message) {
  process.stdout.write(JSON.stringify({ jsonrpc: "2.0", ...message }) + "\n");
}

let backendIds = 0;

// One backend/* request to the harness; resolves with its result or throws BackendError.
async function backend(method, params) {
  const id = `b${++backendIds}`;
  send({ id, method: `backend/${method}`, params });
  for (;;) {
    const line = await nextLine();
    if (line === null) throw new BackendError("unavailable", "the harness closed stdin");
    let message;
    try {
      message = JSON.parse(line);
    } catch (err) {
      console.error(`ignored a line that is not JSON: ${line}`);
      continue;
    }
    if (message.id !== id || "method" in message) {
      console.error(`ignored ${line} while waiting for ${method}`);
      continue;
    }
    if (message.error) {
      const data = message.error.data || {};
      throw new BackendError(data.kind || "invalid", data.message || message.error.message);
    }
    return message.result;
  }
}

// ---------------------------------------------------------------------- properties

function parseProperties(properties) {
  const problems = [];
  const timeout = properties[TIMEOUT_PROPERTY];
  let timeoutSeconds = 0;
  if (timeout === undefined || timeout.trim() === "") {
    problems.push(`${TIMEOUT_PROPERTY} is missing; set it to a positive number of seconds`);
  } else if (!/^\d+$/.test(timeout.trim()) || parseInt(timeout, 10) <= 0) {
    problems.push(`${TIMEOUT_PROPERTY} must be a positive whole number, got '${timeout}'`);
  } else {
    timeoutSeconds = parseInt(timeout, 10);
  }
  const replication = properties[REPLICATION_PROPERTY];
  if (replication === undefined || replication.trim() === "") {
    problems.push(`${REPLICATION_PROPERTY} is missing; set it to 'true' or 'false'`);
  } else if (!["true", "false"].includes(replication.trim().toLowerCase())) {
    problems.push(`${REPLICATION_PROPERTY} must be 'true' or 'false', got '${replication}'`);
  }
  if (problems.length > 0) throw configurationError(problems.join("; "));
  return {
    timeoutSeconds,
    replicationEnabled: (replication || "").trim().toLowerCase() === "true",
  };
}

// ---------------------------------------------------------------------- the plugin

const CODES = {
  unreachable: "CONNECTION",
  auth: "CONNECTION",
  unavailable: "BACKEND",
  not_found: "BACKUP_NOT_FOUND",
  not_restorable: "BACKUP_NOT_RESTORABLE",
  invalid: "BACKEND",
};

// Run `body`, turning a backend error into the BackupPluginException the platform expects.
async function translated(operation, body, { notFound = "BACKUP_NOT_FOUND", invalid = "BACKEND" } = {}) {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof BackendError)) throw err;
    let code = CODES[err.kind] || "BACKEND";
    if (err.kind === "not_found") code = notFound;
    else if (err.kind === "invalid") code = invalid;
    throw backupPluginException(code, `${operation}: ${err.message}`);
  }
}

// An ISO-8601 instant as a sortable number of microseconds (Date keeps only milliseconds).
function instantKey(value) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(value);
  if (!m) return Date.parse(value) * 1000;
  const micros = parseInt(((m[2] || "") + "000000").slice(0, 6), 10);
  return Date.parse(m[1] + m[3]) * 1000 + micros;
}

const jobKey = (policy, configuration) =>
  JSON.stringify([policy.code, configuration.type, configuration.subtype]);

function configurations(schedule) {
  const out = [];
  for (const policy of schedule.policies) {
    for (const configuration of policy.configurations) out.push([policy, configuration]);
  }
  return out;
}

class Plugin {
  constructor(params) {
    this.properties = params.properties || {};
    this.component = params.component;
    this.connections = new Map();
    this.connectionNumbers = 0;
    this.now = params.now;
  }

  settings() {
    try {
      return parseProperties(this.properties);
    } catch (err) {
      throw backupPluginException("BACKEND", err.message);
    }
  }

  session(params) {
    const connection = this.connections.get(params.connection);
    if (!connection) {
      throw backupPluginException("CONNECTION", `no open connection '${params.connection}'`);
    }
    return connection.session;
  }

  refuseReplication(operation, asked) {
    if (asked && !this.settings().replicationEnabled) {
      throw backupPluginException(
        "UNSUPPORTED",
        `${operation}: replication is disabled (${REPLICATION_PROPERTY}=false)`
      );
    }
  }

  // Make the VM's jobs exactly the schedule's: put each one, drop any other.
  async converge(session, vm, schedule) {
    const wanted = new Set(configurations(schedule).map(([p, c]) => jobKey(p, c)));
    for (const [policy, configuration] of configurations(schedule)) {
      await backend("putJob", { session, vm, policy, configuration });
    }
    for (const job of await backend("jobs", { session, vm_uuid: vm.uuid })) {
      const c = job.configuration;
      if (!wanted.has(JSON.stringify([job.policy_code, c.type, c.subtype]))) {
        await backend("deleteJob", {
          session, vm_uuid: vm.uuid, policy_code: job.policy_code, type: c.type, subtype: c.subtype,
        });
      }
    }
  }

  // -- lifecycle

  validateConfiguration() {
    parseProperties(this.properties);
    return null;
  }

  async connect(params) {
    const data = params.connection_data;
    if (!data.endpoint) throw connectionError("the backup manager has no endpoint; it is mandatory");
    if (data.user === null || data.password === null) {
      throw connectionError("the backup manager has no credentials; they are mandatory");
    }
    let opened;
    try {
      opened = await backend("openSession", {
        endpoint: data.endpoint, user: data.user, password: data.password,
      });
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
      throw connectionError(`cannot open a session at ${data.endpoint}: ${err.message}`);
    }
    const id = `c${++this.connectionNumbers}`;
    this.connections.set(id, { session: opened.session });
    return id;
  }

  async disconnect(params) {
    const connection = this.connections.get(params.connection);
    this.connections.delete(params.connection);
    if (connection) {
      try {
        await backend("closeSession", { session: connection.session });
      } catch (err) {
        if (!(err instanceof BackendError)) throw err; // closing never fails the platform
      }
    }
    return null;
  }

  // -- operations

  async applySchedule(params) {
    const session = this.session(params);
    for (const policy of params.schedule.policies) {
      this.refuseReplication("applySchedule", policy.replication);
    }
    await translated("applySchedule", () => this.converge(session, params.vm, params.schedule), {
      notFound: "VM_NOT_FOUND", invalid: "INVALID_SCHEDULE",
    });
    return null;
  }

  async applyNewSchedule(params) {
    const session = this.session(params);
    const { vm, old_schedule: oldSchedule, new_schedule: newSchedule } = params;
    for (const policy of newSchedule.policies) {
      this.refuseReplication("applyNewSchedule", policy.replication);
    }
    const kept = new Set(configurations(newSchedule).map(([p, c]) => jobKey(p, c)));
    await translated(
      "applyNewSchedule",
      async () => {
        for (const [policy, c] of configurations(oldSchedule)) {
          if (!kept.has(jobKey(policy, c))) {
            await backend("deleteJob", {
              session, vm_uuid: vm.uuid, policy_code: policy.code, type: c.type, subtype: c.subtype,
            });
          }
        }
        await this.converge(session, vm, newSchedule);
      },
      { notFound: "VM_NOT_FOUND", invalid: "INVALID_SCHEDULE" }
    );
    return null;
  }

  async removeSchedule(params) {
    const session = this.session(params);
    await translated("removeSchedule", () => backend("deleteJobs", { session, vm_uuid: params.vm.uuid }), {
      notFound: "VM_NOT_FOUND",
    });
    return null;
  }

  async executeBackup(params) {
    const session = this.session(params);
    this.refuseReplication("executeBackup", params.options.replication);
    // A backend record has exactly the fields of a BackupResult.
    return translated(
      "executeBackup",
      () => backend("startBackup", { session, vm: params.vm, replication: params.options.replication }),
      { notFound: "VM_NOT_FOUND" }
    );
  }

  async executeRestore(params) {
    const session = this.session(params);
    const { vm, backup_id: backupId } = params;
    return translated("executeRestore", async () => {
      // Ownership first, and it changes nothing: another VM's backup must not be restored here.
      const found = await backend("get", { session, ids: [backupId] });
      const record = found[backupId];
      if (!record || record.provider_id !== backupId || record.vm_uuid !== vm.uuid) {
        throw backupPluginException(
          "BACKUP_NOT_FOUND", `executeRestore: VM ${vm.uuid} has no backup '${backupId}'`
        );
      }
      return backend("startRestore", { session, vm_uuid: vm.uuid, backup_id: backupId });
    });
  }

  async listResults(params) {
    const session = this.session(params);
    const asked = [...params.in_progress_result_provider_ids].sort();
    const { changed, current } = await translated("listResults", async () => ({
      changed: await backend("changedSince", { session, since: params.last_check_date }),
      current: await backend("get", { session, ids: asked }),
    }));
    const byId = new Map();
    for (const record of changed) byId.set(record.provider_id, record);
    // A restore id is answered by its backup.
    for (const record of Object.values(current)) byId.set(record.provider_id, record);
    const results = [...byId.values()];
    for (const id of asked) {
      if (!(id in current)) {
        results.push({
          provider_id: id, vm_uuid: "", name: id, type: "COMPLETE", state: "UNKNOWN",
          creation_date: params.now, finish_date: null, expiration_date: null, size_bytes: 0,
          replication: false, on_demand: false, message: UNKNOWN_MESSAGE, restores: [],
        });
      }
    }
    results.sort((a, b) => {
      const d = instantKey(a.creation_date) - instantKey(b.creation_date);
      if (d !== 0) return d;
      return a.provider_id < b.provider_id ? -1 : a.provider_id > b.provider_id ? 1 : 0;
    });
    return results;
  }

  async getExpiredResults(params) {
    const session = this.session(params);
    return translated("getExpiredResults", () =>
      backend("expired", { session, ids: params.provider_ids })
    );
  }

  // -- abiquo-4.7 and abiquo-6.0: per-id polling ------------------------------------

  // Every backup created at or after start_date (null: all). The backend's window also
  // holds older backups that finished since: repeats are harmless, the platform upserts.
  async listNewBackupResults(params) {
    const session = this.session(params);
    return translated("listNewBackupResults", () =>
      backend("changedSince", { session, since: params.start_date })
    );
  }

  // Every restore created at or after start_date, by creation date then id.
  async listNewRestoreResults(params) {
    const session = this.session(params);
    const start = params.start_date;
    const records = await translated("listNewRestoreResults", () =>
      backend("changedSince", { session, since: start })
    );
    const restores = [];
    for (const record of records) {
      for (const restore of record.restores) {
        if (start === null || instantKey(restore.creation_date) >= instantKey(start)) {
          restores.push(restore);
        }
      }
    }
    restores.sort((a, b) => {
      const d = instantKey(a.creation_date) - instantKey(b.creation_date);
      if (d !== 0) return d;
      return a.provider_id < b.provider_id ? -1 : a.provider_id > b.provider_id ? 1 : 0;
    });
    return restores;
  }

  // The backup as the backend has it now; null when it does not know the id. The backend
  // answers a restore id with its parent backup: another id's result, so null.
  async getBackupResult(params) {
    const session = this.session(params);
    const id = params.backup_id;
    const found = await translated("getBackupResult", () => backend("get", { session, ids: [id] }));
    const record = found[id];
    return record && record.provider_id === id ? record : null;
  }

  async getRestoreResult(params) {
    const session = this.session(params);
    const id = params.restore_id;
    const found = await translated("getRestoreResult", () => backend("get", { session, ids: [id] }));
    const record = found[id];
    if (!record) return null;
    return record.restores.find((r) => r.provider_id === id) || null;
  }

  // Whether the backend has removed the backup (its retention ran out, or it was lost).
  async isBackupExpired(params) {
    const session = this.session(params);
    const id = params.backup_id;
    const expired = await translated("isBackupExpired", () =>
      backend("expired", { session, ids: [id] })
    );
    return expired.includes(id);
  }

  // -- abiquo-6.0: backup-policy synchronisation ------------------------------------

  // The VMs the backend protects with the policy now, administrators' changes included.
  async listVirtualMachinesInBackupPolicy(params) {
    const session = this.session(params);
    return translated("listVirtualMachinesInBackupPolicy", () =>
      backend("policyVms", { session, policy_code: params.policy_code })
    );
  }
}

// -------------------------------------------------------------------------- serving

const METHODS = {
  validateConfiguration: "validateConfiguration",
  connect: "connect",
  disconnect: "disconnect",
  applySchedule: "applySchedule",
  applyNewSchedule: "applyNewSchedule",
  removeSchedule: "removeSchedule",
  executeBackup: "executeBackup",
  executeRestore: "executeRestore",
  listResults: "listResults",
  getExpiredResults: "getExpiredResults",
  listNewBackupResults: "listNewBackupResults",
  listNewRestoreResults: "listNewRestoreResults",
  getBackupResult: "getBackupResult",
  getRestoreResult: "getRestoreResult",
  isBackupExpired: "isBackupExpired",
  listVirtualMachinesInBackupPolicy: "listVirtualMachinesInBackupPolicy",
};

let plugin = null;

async function handle(method, params) {
  if (method === "initialize") {
    plugin = new Plugin(params);
    return DESCRIPTION;
  }
  if (method === "shutdown") return null;
  if (plugin === null) throw Object.assign(new Error("initialize first"), { rpcCode: -32600 });
  const name = METHODS[method];
  if (!name) throw Object.assign(new Error(`unknown method ${method}`), { rpcCode: -32601 });
  plugin.now = params.now;
  return plugin[name](params);
}

function errorObject(err) {
  if (err instanceof PluginException) {
    const data = { exception: err.exception, message: err.message };
    if (err.code !== undefined) data.code = err.code;
    return { code: -32000, message: `${err.exception}: ${err.message}`, data };
  }
  if (err && err.rpcCode) return { code: err.rpcCode, message: err.message };
  // A bug: reported under its own name, which the harness counts as a foreign exception.
  const name = (err && err.name) || "Error";
  return { code: -32000, message: `${name}: ${err}`, data: { exception: name, message: String(err && err.message) } };
}

async function main() {
  for (;;) {
    const line = await nextLine();
    if (line === null) break;
    if (line.trim() === "") continue;
    let request;
    try {
      request = JSON.parse(line);
    } catch (err) {
      send({ id: null, error: { code: -32700, message: `parse error: ${err.message}` } });
      continue;
    }
    if (request.id === undefined) continue; // a notification: nothing to answer
    try {
      const result = await handle(request.method, request.params || {});
      send({ id: request.id, result: result === undefined ? null : result });
    } catch (err) {
      send({ id: request.id, error: errorObject(err) });
    }
    if (request.method === "shutdown") break;
  }
  input.close();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
