import type { ConnectionOptions } from "node:tls";
import { StateError } from "../errors/index.js";

/**
 * Connection settings of the PostgreSQL backend, kept apart from the backend so they can be checked
 * without a server: URL parsing, password redaction and libpq's sslmode semantics mapped onto
 * node's TLS options (the `pg` driver's own sslmode handling differs from libpq's, so it is not used).
 */

export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface ParsedPgUrl {
  /** The URL without its ssl* parameters (they are applied as TLS options instead). */
  connectionString: string;
  /** The URL with the password replaced by `***`, safe to print. */
  redacted: string;
  /** The password in clear (empty when none), to scrub from driver messages. */
  password: string;
  host: string;
  sslmode?: SslMode;
  sslrootcert?: string;
}

const SSL_PARAMS = ["sslmode", "sslrootcert", "sslcert", "sslkey", "ssl", "sslcompression", "uselibpqcompat"];

/** Parses a `postgres://` or `postgresql://` URL. Errors never repeat the URL (it may hold a password). */
export function parsePgUrl(url: string, where: string): ParsedPgUrl {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new StateError(`The PostgreSQL connection ${where} is not a URL.`, {
      path: "spec.state.postgres.url",
      hint: "Write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE (libpq key=value strings are not supported).",
    });
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new StateError(`The PostgreSQL connection ${where} has scheme "${u.protocol.replace(/:$/, "")}"; expected postgres://.`, {
      path: "spec.state.postgres.url",
    });
  }
  const rawMode = u.searchParams.get("sslmode") ?? undefined;
  if (rawMode !== undefined && !(SSL_MODES as readonly string[]).includes(rawMode)) {
    throw new StateError(`The PostgreSQL connection ${where} has sslmode=${rawMode}; expected one of ${SSL_MODES.join(", ")}.`, {
      path: "spec.state.postgres.url",
    });
  }
  const sslrootcert = u.searchParams.get("sslrootcert") ?? undefined;
  for (const p of SSL_PARAMS) u.searchParams.delete(p);
  const password = decodeURIComponent(u.password);
  const connectionString = u.toString();
  if (u.password !== "") u.password = "***";
  const out: ParsedPgUrl = {
    connectionString,
    redacted: u.toString(),
    password,
    host: decodeURIComponent(u.hostname) || u.searchParams.get("host") || "localhost",
  };
  if (rawMode !== undefined) out.sslmode = rawMode as SslMode;
  if (sslrootcert !== undefined) out.sslrootcert = sslrootcert;
  return out;
}

/** Removes a password (as written and URL-encoded) from a driver message. */
export function scrubSecret(message: string, password: string): string {
  if (password === "") return message;
  let out = message.split(password).join("***");
  const encoded = encodeURIComponent(password);
  if (encoded !== password) out = out.split(encoded).join("***");
  return out;
}

/**
 * The TLS settings to try, in order, for an sslmode (libpq semantics):
 * - `disable`: plain only. `allow`: plain, then TLS if the server insists. `prefer` (libpq's default):
 *   TLS without verification, then plain if the server has no TLS.
 * - `require`: TLS without verification, except that, as in libpq, a given CA file makes it `verify-ca`.
 * - `verify-ca`: the chain must lead to the CA file (or the system CAs); the host name is not checked.
 * - `verify-full`: chain and host name checked.
 * `false` = no TLS.
 */
export function sslAttempts(mode: SslMode, ca: string | undefined): (false | ConnectionOptions)[] {
  const noVerify: ConnectionOptions = { rejectUnauthorized: false };
  const verifyCa: ConnectionOptions = { rejectUnauthorized: true, checkServerIdentity: () => undefined, ...(ca !== undefined ? { ca } : {}) };
  const verifyFull: ConnectionOptions = { rejectUnauthorized: true, ...(ca !== undefined ? { ca } : {}) };
  switch (mode) {
    case "disable":
      return [false];
    case "allow":
      return [false, noVerify];
    case "prefer":
      return [noVerify, false];
    case "require":
      return [ca !== undefined ? verifyCa : noVerify];
    case "verify-ca":
      return [verifyCa];
    case "verify-full":
      return [verifyFull];
  }
}

/** Whether a failed first attempt may fall through to the next TLS setting (libpq's allow/prefer). */
export function mayFallBack(mode: SslMode, e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  const code = typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined;
  if (mode === "prefer") return /does not support SSL/i.test(msg);
  // The server's pg_hba.conf accepts only hostssl lines for us.
  if (mode === "allow") return code === "28000" || /no pg_hba\.conf entry/i.test(msg);
  return false;
}

/** `"schema"."table"`: identifiers quoted, embedded quotes doubled, so no name can break out. */
export function quoteIdent(name: string): string {
  if (name === "" || name.includes("\u0000")) throw new StateError(`"${name}" cannot be used as a PostgreSQL name.`, { path: "spec.state.postgres" });
  return `"${name.replace(/"/g, '""')}"`;
}
