import type { ValidateFunction } from "ajv/dist/2020.js";
import { schemaValidator } from "../jsonschema/index.js";
import { StateError } from "../errors/index.js";
import { canonicalJson, sha256Hex, STATE_FORMAT_VERSION, type StateFile } from "../model/index.js";
import type { StateIdentity } from "./types.js";

/**
 * The stored form of a state: the StateFile plus `checksum` = `sha256:` + sha256 of the canonical JSON of
 * everything else. Written as canonical JSON indented by two spaces, so the same state always gives the
 * same bytes and diffs of two versions read well.
 */

const CHECKSUM_PREFIX = "sha256:";

export function stateChecksum(state: StateFile): string {
  const { checksum: _ignored, ...body } = state as StateFile & { checksum?: string };
  return CHECKSUM_PREFIX + sha256Hex(canonicalJson(body));
}

export function encodeState(state: StateFile): string {
  const { checksum: _ignored, ...body } = state as StateFile & { checksum?: string };
  // Sort once, serialise twice (compact for the checksum, indented for the file): states get large.
  const sorted = sortedCopy(body) as Record<string, unknown>;
  const checksum = CHECKSUM_PREFIX + sha256Hex(JSON.stringify(sorted));
  const withChecksum: Record<string, unknown> = {};
  for (const key of [...Object.keys(sorted), "checksum"].sort()) withChecksum[key] = key === "checksum" ? checksum : sorted[key];
  return JSON.stringify(withChecksum, null, 2) + "\n";
}

/** Objects with keys sorted at every level (the same order canonicalJson uses). */
function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedCopy);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortedCopy(v);
    }
    return out;
  }
  return value;
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
  const validate = validator();
  if (!validate(obj)) {
    const first = (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
    return refuse(`does not match the state schema: ${first.join("; ")}.`);
  }
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

function validator(): ValidateFunction {
  return schemaValidator("state");
}
