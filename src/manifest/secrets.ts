import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { SecretError, unreadableFile } from "../errors/index.js";
import type { SecretRef } from "./types.js";

const REF = /^\$\{(env|file):([^}]+)\}$/;

/** Parses `${env:NAME}` or `${file:PATH}`; undefined for anything else (a literal). */
export function parseSecretRef(text: string): SecretRef | undefined {
  const m = REF.exec(text.trim());
  if (!m) return undefined;
  return { ref: text.trim(), source: m[1] as "env" | "file", name: m[2]! };
}

export function isSecretRef(value: unknown): value is SecretRef {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as SecretRef).ref === "string" &&
    ((value as SecretRef).source === "env" || (value as SecretRef).source === "file")
  );
}

export interface SecretOptions {
  env: Record<string, string | undefined>;
  /** Folder relative `${file:…}` paths resolve against: the manifest's project folder (Environment.baseDir). */
  baseDir?: string;
  /** Used when baseDir is not given. */
  cwd?: string;
}

/**
 * The secret's value. Errors name the reference (variable or file), never a value. A file's single
 * trailing newline is dropped because editors and `echo` add one.
 */
export async function resolveSecret(ref: SecretRef, opts: SecretOptions): Promise<string> {
  if (ref.source === "env") {
    const v = opts.env[ref.name];
    if (v === undefined) {
      throw new SecretError(`environment variable ${ref.name} is not set (referenced as ${ref.ref})`, {
        hint: `Set ${ref.name} in the environment stsorg runs in.`,
      });
    }
    if (v === "") {
      throw new SecretError(`environment variable ${ref.name} is empty (referenced as ${ref.ref})`, {
        hint: `Give ${ref.name} the secret's value.`,
      });
    }
    return v;
  }
  const path = isAbsolute(ref.name) ? ref.name : resolve(opts.baseDir ?? opts.cwd ?? ".", ref.name);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new SecretError(`secret file ${path} ${unreadableFile(e)} (referenced as ${ref.ref})`, {
      hint: "Create the file with the secret as its only content, readable by the user running stsorg.",
    });
  }
  const value = text.replace(/\r?\n$/, "");
  if (value === "") {
    throw new SecretError(`secret file ${path} is empty (referenced as ${ref.ref})`, { hint: "Put the secret in the file." });
  }
  return value;
}
