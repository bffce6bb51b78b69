/**
 * Every failure a user can cause or meet has a class here. Each carries the context a person needs to
 * act on it (file, line, object uuid and name) and a `hint` saying what to do. The CLI maps them to
 * exit codes and prints `message` (and `hint`) without a stack trace; anything that is not a
 * StsorgError is a bug and is printed with its stack.
 */

export interface ErrorContext {
  /** Manifest, state or plan file the problem is in. */
  file?: string;
  line?: number;
  column?: number;
  /** Path inside a document, e.g. `spec.sts.adminTopUuid`. */
  path?: string;
  /** The object concerned (FK or OS2mo). */
  uuid?: string;
  name?: string;
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
}

/** Why a file could not be read, for a message: "does not exist", "is a directory", … */
export function unreadableFile(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT"
    ? "does not exist"
    : code === "EISDIR"
      ? "is a directory"
      : code === "EACCES"
        ? "is not readable (permission denied)"
        : `cannot be read (${code ?? "error"})`;
}

export abstract class StsorgError extends Error {
  abstract override readonly name: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly path?: string;
  readonly uuid?: string;
  readonly objectName?: string;
  readonly hint?: string;

  constructor(message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.file = context.file;
    this.line = context.line;
    this.column = context.column;
    this.path = context.path;
    this.uuid = context.uuid;
    this.objectName = context.name;
    this.hint = context.hint;
  }

  /** `file:line:column` when known, for the start of an error line. */
  get location(): string | undefined {
    if (this.file === undefined) return undefined;
    let loc = this.file;
    if (this.line !== undefined) loc += `:${this.line}`;
    if (this.line !== undefined && this.column !== undefined) loc += `:${this.column}`;
    return loc;
  }
}

/** Command-line arguments that do not make sense together or are malformed. */
export class UsageError extends StsorgError {
  readonly name = "UsageError";
}

/** A manifest that cannot be read, parsed or validated. */
export class ManifestError extends StsorgError {
  readonly name = "ManifestError";
}

/** A secret reference that cannot be resolved. Never carries the secret's value. */
export class SecretError extends StsorgError {
  readonly name = "SecretError";
}

/** A certificate file that cannot be opened or is not fit for use. */
export class CertificateError extends StsorgError {
  readonly name = "CertificateError";
}

/** A remote system (OS2mo, OS2sync, FK, state server) failed or refused. */
export class RemoteError extends StsorgError {
  readonly name = "RemoteError";
  readonly system: string;
  readonly status?: number;
  constructor(system: string, message: string, context: ErrorContext & { status?: number } = {}) {
    super(message, context);
    this.system = system;
    this.status = context.status;
  }
}

/** Authentication against a remote system failed (bad secret, certificate, CVR, api key). */
export class AuthError extends StsorgError {
  readonly name = "AuthError";
}

/** A state file that is unreadable, corrupt, from another environment, or a conflicting write. */
export class StateError extends StsorgError {
  readonly name = "StateError";
}

/** The state is locked by someone else. */
export class LockError extends StsorgError {
  readonly name = "LockError";
}

/** A saved plan that must not be applied (stale, other lineage, changed manifest, too old, has errors). */
export class PlanRefusedError extends StsorgError {
  readonly name = "PlanRefusedError";
}

/** A safety guard refused the operation (mass delete, protected unit). */
export class GuardError extends StsorgError {
  readonly name = "GuardError";
}

/** The run was interrupted by SIGINT/SIGTERM after settling in-flight work. */
export class InterruptedError extends StsorgError {
  readonly name = "InterruptedError";
}

export function isStsorgError(e: unknown): e is StsorgError {
  return e instanceof StsorgError;
}

/** Exit code for an error: 130 for an interrupt, 1 for everything else. */
export function exitCodeFor(e: unknown): number {
  return e instanceof InterruptedError ? 130 : 1;
}

/** One-paragraph rendering of an error for a terminal: location, message, hint. No stack for user errors. */
export function formatError(e: unknown): string {
  if (isStsorgError(e)) {
    const parts: string[] = [];
    const loc = e.location;
    const what = [e.objectName ? `"${e.objectName}"` : undefined, e.uuid ? `(${e.uuid})` : undefined]
      .filter(Boolean)
      .join(" ");
    parts.push(`Error: ${loc ? `${loc}: ` : ""}${e.path && !loc ? `${e.path}: ` : ""}${e.message}${what ? ` [${what}]` : ""}`);
    if (e.hint) parts.push(`  ${e.hint}`);
    return parts.join("\n");
  }
  if (e instanceof Error) return `Internal error (please report it): ${e.stack ?? e.message}`;
  return `Internal error (please report it): ${String(e)}`;
}
