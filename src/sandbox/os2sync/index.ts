/** A sandbox OS2sync 4.x REST server over the sandbox FK store (see README.md). */
export { startOs2syncSandbox, RequestLog } from "./server.js";
export type { Os2syncSandbox, Os2syncSandboxOptions, RequestLogEntry } from "./server.js";
export { Faults } from "./faults.js";
export type { FaultAction, FaultConfig, OneShotFault } from "./faults.js";
export { Os2syncQueue } from "./queue.js";
export type { QueueFailure, QueueOperation, QueueRow, QueueStats } from "./queue.js";
export { HierarchyJobs } from "./hierarchy.js";
export { USER_STATUS } from "./dto.js";
