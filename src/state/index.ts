/**
 * State: the StateFile helpers, the StateBackend interface with its local-file and in-memory
 * implementations, locking (withLock, heartbeat) and the stored encoding (checksum, schema validation).
 */
export type { StateBackend, ExpectedVersion, WriteOptions, LockRequest, LockInfo, StateIdentity } from "./types.js";
export { versionOf } from "./types.js";
export { newState, attributesSha256, putResource, removeResource, findResource, compareAddress, type NewStateInit } from "./helpers.js";
export { encodeState, encodeStateChunks, decodeState, sealResource, sealValue, stateChecksum, checkIdentity, type DecodeOptions } from "./codec.js";
export { diffStates, applyDelta, encodeDelta, replayJournal, type StateDelta } from "./delta.js";
export {
  withLock,
  whoAmI,
  formatLockInfo,
  formatAge,
  isExpired,
  StateLockedError,
  DEFAULT_LOCK_TTL_MS,
  realSleep,
  type WithLockOptions,
} from "./lock.js";
export { LocalStateBackend, type LocalBackendOptions } from "./local.js";
export { MemoryStateBackend, memoryStore, type MemoryStateStore, type MemoryBackendOptions } from "./memory.js";
export { openBackend, openBackendOfKind, identityOf, localStatePath, BACKEND_KINDS, type StateEnvironment, type BackendKind, type OpenIo } from "./open.js";
export { PostgresStateBackend, type PostgresBackendOptions } from "./postgres.js";
export { parsePgUrl, scrubSecret, sslAttempts, quoteIdent, SSL_MODES, type SslMode, type ParsedPgUrl } from "./pgconfig.js";
export { HttpStateBackend, parseHolder, redactUrl, type HttpBackendOptions } from "./http.js";
