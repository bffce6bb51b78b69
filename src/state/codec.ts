import { createHash } from "node:crypto";
import type { ValidateFunction } from "ajv/dist/2020.js";
import { schemaValidator } from "../jsonschema/index.js";
import { StateError } from "../errors/index.js";
import { canonicalJson, canonicalValue, STATE_FORMAT_VERSION, type StateFile, type StateResource } from "../model/index.js";
import type { StateIdentity } from "./types.js";

/**
 * The stored form of a state: the StateFile plus `checksum` = `sha256:` + sha256 of the canonical JSON of
 * everything else. Written as canonical JSON indented by two spaces, so the same state always gives the
 * same bytes and diffs of two versions read well.
 */

const CHECKSUM_PREFIX = "sha256:";

export function stateChecksum(state: StateFile): string {
  const { checksum: _ignored, ...body } = state as StateFile & { checksum?: string };
  return checksumOf(body, (_key, element) => canonicalJson(element) ?? "null");
}

/**
 * `sha256:` + sha256 of canonicalJson(body), fed to the hash member by member and array element by element
 * (`element` gives an element's canonical JSON): the canonical text of a large state is never built whole.
 */
function checksumOf(body: object, element: (key: string, value: unknown, index: number) => string | Buffer): string {
  const fields = body as Record<string, unknown>;
  const hash = createHash("sha256");
  hash.update("{");
  definedKeys(fields).forEach((key, n) => {
    const value = fields[key];
    hash.update(`${n === 0 ? "" : ","}${JSON.stringify(key)}:`);
    if (Array.isArray(value)) {
      hash.update("[");
      value.forEach((v: unknown, i) => {
        if (i > 0) hash.update(",");
        hash.update(element(key, v, i));
      });
      hash.update("]");
    } else {
      hash.update(canonicalJson(value));
    }
  });
  hash.update("}");
  return CHECKSUM_PREFIX + hash.digest("hex");
}

function definedKeys(fields: Record<string, unknown>): string[] {
  return Object.keys(fields)
    .filter((k) => fields[k] !== undefined)
    .sort();
}

export function encodeState(state: StateFile): string {
  return Buffer.concat(encodeStateChunks(state)).toString("utf8");
}

const ELEMENT_SEPARATOR = Buffer.from(",\n    ");

/**
 * `encodeState` as UTF-8 chunks, in order (to be written with writev): the same bytes as
 * JSON.stringify(sorted state + checksum, null, 2) + "\n", built from per-resource pieces that sealed
 * resources keep (see sealResource). Apply persists a growing state tens of times, and re-encoding tens
 * of thousands of unchanged resources each time dominated its CPU.
 */
export function encodeStateChunks(state: StateFile): Buffer[] {
  const { checksum: _ignored, ...body } = state as StateFile & { checksum?: string };
  const pieces = body.resources.map(encodedResource);
  const fields: Record<string, unknown> = { ...body };
  fields.checksum = checksumOf(body, (key, element, i) => (key === "resources" ? pieces[i]!.compact : (canonicalJson(element) ?? "null")));
  const chunks: Buffer[] = [Buffer.from("{\n")];
  definedKeys(fields).forEach((key, n) => {
    const value = fields[key];
    const name = JSON.stringify(key);
    if (n > 0) chunks.push(Buffer.from(",\n"));
    if (key === "resources" && pieces.length > 0) {
      chunks.push(Buffer.from(`  ${name}: [\n    `));
      pieces.forEach((p, i) => {
        if (i > 0) chunks.push(ELEMENT_SEPARATOR);
        chunks.push(p.pretty);
      });
      chunks.push(Buffer.from("\n  ]"));
    } else {
      chunks.push(Buffer.from(`  ${name}: ${indentTail(canonicalJson(value, 2), "  ")}`));
    }
  });
  chunks.push(Buffer.from("\n}\n"));
  return chunks;
}

interface EncodedResource {
  /** Canonical compact JSON (for the checksum), UTF-8. */
  compact: Buffer;
  /** Canonical JSON indented as an element of the top-level `resources` array (2 levels deep), UTF-8. */
  pretty: Buffer;
}

/**
 * Encodings of resources, kept for resources sealed with `sealResource`: those are deeply frozen, so a
 * kept encoding can never go stale. Others (any caller's plain objects) are encoded afresh every time.
 */
const encoded = new WeakMap<StateResource, EncodedResource>();
const sealed = new WeakSet<object>();

/**
 * Makes a resource immutable (deeply frozen) so that its encoding is computed once and reused by every
 * later `encodeState`. Apply seals what it records: it persists a growing state tens of times.
 */
export function sealResource<R extends StateResource>(r: R): R {
  return sealValue(r);
}

/** Deeply freezes a value (a journal entry) so that a state journal can tell it unchanged by identity. */
export function sealValue<T extends object>(v: T): T {
  if (!sealed.has(v)) {
    deepFreeze(v);
    sealed.add(v);
  }
  return v;
}

/** True for values sealed with sealResource or sealValue: their content cannot have changed. */
export function isSealed(v: object): boolean {
  return sealed.has(v);
}

/** A resource's canonical compact JSON, UTF-8 (kept for sealed resources). */
export function compactResourceJson(r: StateResource): Buffer {
  return encodedResource(r).compact;
}

function encodedResource(r: StateResource): EncodedResource {
  const kept = encoded.get(r);
  if (kept !== undefined) return kept;
  const sorted = canonicalValue(r);
  const e = {
    compact: Buffer.from(JSON.stringify(sorted)),
    pretty: Buffer.from(indentTail(JSON.stringify(sorted, null, 2), "    ")),
  };
  if (sealed.has(r)) encoded.set(r, e);
  return e;
}

/** Indents every line but the first (how JSON.stringify nests a value under its parent). */
function indentTail(text: string, prefix: string): string {
  return text.includes("\n") ? text.replaceAll("\n", "\n" + prefix) : text;
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}

export interface DecodeOptions {
  /** Where the text came from, for messages (a file path or a backend description). */
  source: string;
  /** A backup to name in the message when the state is refused. */
  backup?: string;
  /** When given, a state of another environment, CVR or root unit is refused. */
  identity?: StateIdentity;
  /** A missing checksum is accepted (hand-written files given to `state push`). */
  checksumOptional?: boolean;
  /** Skip the checksum comparison (`state push --force` of a hand-edited file). */
  ignoreChecksum?: boolean;
}

/** Parses, checks the checksum, validates against schemas/state.schema.json and checks the identity. */
export function decodeState(text: string, opts: DecodeOptions): StateFile {
  const refuse = (what: string, extra?: string): never => {
    const backupHint = opts.backup
      ? `The previous version is kept in ${opts.backup}; check it and copy it over ${opts.source} to restore it.`
      : undefined;
    throw new StateError(`State ${opts.source} ${what}`, {
      file: opts.source,
      hint: [extra, backupHint].filter(Boolean).join(" ") || undefined,
    });
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return refuse(`is not valid JSON (${(e as Error).message}); it is damaged and was not used.`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return refuse("is not a state file (not a JSON object).");
  const obj = doc as Record<string, unknown>;
  if (obj.format_version !== undefined && obj.format_version !== STATE_FORMAT_VERSION) {
    return refuse(
      `has format_version ${JSON.stringify(obj.format_version)}, which this stsorg does not know (it reads ${STATE_FORMAT_VERSION}).`,
      "Use the stsorg version that wrote it, or a newer one.",
    );
  }
  const checksum = obj.checksum;
  if (checksum === undefined) {
    if (!opts.checksumOptional) return refuse("has no checksum; it is damaged or was edited by hand and was not used.");
  } else if (!opts.ignoreChecksum) {
    const actual = stateChecksum(obj as unknown as StateFile);
    if (checksum !== actual) return refuse("does not match its checksum; it is damaged or was edited by hand and was not used.");
  }
  const invalid = schemaProblems(obj);
  if (invalid !== undefined) return refuse(`does not match the state schema: ${invalid}.`);
  delete obj.checksum;
  const state = obj as unknown as StateFile;
  if (opts.identity) checkIdentity(state, opts.identity, opts.source);
  return state;
}

/** Refuses a state that belongs to another environment, municipality or root unit. */
export function checkIdentity(state: StateFile, identity: StateIdentity, source: string): void {
  const mismatches: string[] = [];
  if (state.environment !== identity.environment)
    mismatches.push(`environment "${state.environment}" (the manifest is "${identity.environment}")`);
  if (state.cvr !== identity.cvr) mismatches.push(`CVR ${state.cvr} (the manifest has ${identity.cvr})`);
  if (state.admin_top_uuid.toLowerCase() !== identity.admin_top_uuid.toLowerCase())
    mismatches.push(`adminTopUuid ${state.admin_top_uuid} (the manifest has ${identity.admin_top_uuid})`);
  if (mismatches.length > 0) {
    throw new StateError(`State ${source} belongs to ${mismatches.join(", ")}; it was not used.`, {
      file: source,
      hint: "Check spec.state in the manifest: each environment needs its own state.",
    });
  }
}

/** The first few schema violations of a state, or undefined when it is valid. */
export function schemaProblems(state: object): string | undefined {
  const validate = validator();
  if (validate(state)) return undefined;
  return (validate.errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`)
    .join("; ");
}

function validator(): ValidateFunction {
  return schemaValidator("state");
}
