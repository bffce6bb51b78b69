import {
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Scalar,
} from "yaml";
import { ManifestError } from "../errors/index.js";
import { ENVIRONMENT_UUID_FIELDS as ENVIRONMENT_UUIDS } from "../manifest/index.js";
import { keyOf, mergeMap, mergeNode } from "./merge.js";
import { formatPath, startsWith, type DocPath } from "./paths.js";
import { preserveLayout } from "./preserve.js";
import type { ManifestText, PromotionFinding, PromotionResult, ValueOrigin } from "./types.js";
import { isUuid, ORGANISATION_V4_SERVICE_UUID, replaceUuids, uuidsIn } from "./uuids.js";

/**
 * The parts of a manifest that are the same policy in every environment. Everything else (metadata,
 * stage, municipality, the agreement's own uuid/name/dates/system, certificate, sts, os2mo, os2sync,
 * state, promotion, sandbox, …) belongs to one environment and is kept as the target has it.
 */
export const PORTABLE_SECTIONS: readonly { path: DocPath; keep: readonly string[] }[] = [
  // The CPR hash key is a secret reference; each environment has its own.
  { path: ["spec", "sync"], keep: ["cprHashKey"] },
  { path: ["spec", "safety"], keep: [] },
  { path: ["spec", "serviceAgreement", "services"], keep: [] },
];

/** Fields whose UUIDs identify one environment: the seed guide's "test and prod UUIDs differ". */
export const ENVIRONMENT_UUID_FIELDS: readonly DocPath[] = ENVIRONMENT_UUIDS.map((f) => f.path);

const UUID_MAP_PATH: DocPath = ["spec", "promotion", "uuidMap"];
/** The uuid map's keys are source uuids by design; they are not part of what the target uses. */
const NOT_SCANNED: DocPath = ["spec", "promotion"];

const STRINGIFY: { lineWidth: number; flowCollectionPadding?: boolean } = { lineWidth: 0 };

/** New flow lists are written the way the file mostly writes them: `[ a ]` or `[a]`. */
function prefersFlowPadding(text: string): boolean {
  const padded = text.match(/(?<!\$)[[{] \S/g)?.length ?? 0;
  const tight = text.match(/(?<!\$)[[{][^\s\]}]/g)?.length ?? 0;
  return padded >= tight;
}

interface Parsed {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/**
 * Promotes the portable parts of `source` into `target`. Pure: returns the new target text and what
 * the reviewer must know; `refused` results must not be written.
 */
export function promoteManifest(source: ManifestText, target: ManifestText): PromotionResult {
  const src = parseManifest(source);
  const tgt = parseManifest(target);
  const stringify = { ...STRINGIFY, flowCollectionPadding: prefersFlowPadding(target.text) };
  // The library writes LF; a CRLF file stays CRLF so only changed lines show in the diff.
  const eol = target.text.includes("\r\n") ? (s: string) => s.replace(/\r?\n/g, "\r\n") : (s: string) => s;
  const untouched = eol(tgt.doc.toString(stringify));

  const envUuids = environmentUuids(src);
  const uuidMap = readUuidMap(tgt);
  const findings: PromotionFinding[] = [];

  for (const section of PORTABLE_SECTIONS) {
    const sNode = src.doc.getIn(section.path, true);
    const tNode = tgt.doc.getIn(section.path, true);
    if (sNode === undefined || sNode === null) {
      removeSection(tgt, section.path, section.keep);
      continue;
    }
    const prepared = portableCopy(src, tgt, sNode, section, uuidMap, envUuids, findings);
    if (isMap(tNode) && isMap(prepared)) {
      mergeMap(tNode, prepared, new Set(section.keep));
    } else {
      const next = mergeNode(tNode, prepared);
      if (next !== tNode) setIn(tgt, section.path, next);
    }
  }

  findings.push(...keptEnvironmentUuids(tgt, envUuids));
  findings.sort(byKind);

  const edited = eol(tgt.doc.toString(stringify));
  const changed = edited !== untouched;
  const after = changed ? withOriginalLayout(target.text, untouched, edited, stringify) : target.text;
  return {
    source: source.file,
    target: target.file,
    before: target.text,
    after,
    changed: after !== target.text,
    refused: findings.some((f) => f.kind === "refused"),
    findings,
  };
}

export function parseManifest(m: ManifestText): Parsed {
  const lines = new LineCounter();
  const doc = parseDocument(m.text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const problem = doc.errors[0];
  if (problem) {
    const pos = problem.linePos?.[0];
    throw new ManifestError(`not valid YAML: ${firstLine(problem.message)}`, {
      file: m.file,
      line: pos?.line,
      column: pos?.col,
      hint: "Fix the YAML syntax, then run promote again.",
    });
  }
  if (!isMap(doc.contents)) {
    throw new ManifestError("is not an environment manifest (expected a mapping with apiVersion, kind, metadata and spec)", {
      file: m.file,
      line: 1,
      column: 1,
    });
  }
  const spec = doc.get("spec", true);
  if (!isMap(spec)) {
    const at = lineOf({ file: m.file, doc, lines }, isNode(spec) ? spec : doc.contents);
    throw new ManifestError("has no `spec` mapping", { file: m.file, line: at, path: "spec" });
  }
  return { file: m.file, doc, lines };
}

/** The source's environment-specific uuids (lower-case) and the field each comes from. */
function environmentUuids(src: Parsed): Map<string, { field: string; line?: number }> {
  const out = new Map<string, { field: string; line?: number }>();
  for (const path of ENVIRONMENT_UUID_FIELDS) {
    const node = src.doc.getIn(path, true);
    if (!isScalar(node) || typeof node.value !== "string" || !isUuid(node.value)) continue;
    const uuid = node.value.toLowerCase();
    if (uuid === ORGANISATION_V4_SERVICE_UUID) continue;
    if (!out.has(uuid)) out.set(uuid, { field: formatPath(path), line: lineOf(src, node) });
  }
  return out;
}

interface UuidMap {
  file: string;
  /** source uuid (lower-case) → target uuid, with the line of the entry in the target file. */
  entries: Map<string, { to: string; line?: number; key: string }>;
}

function readUuidMap(tgt: Parsed): UuidMap {
  const entries: UuidMap["entries"] = new Map();
  const node = tgt.doc.getIn(UUID_MAP_PATH, true);
  if (node === undefined || node === null || (isScalar(node) && node.value === null)) return { file: tgt.file, entries };
  if (!isMap(node)) {
    throw new ManifestError("spec.promotion.uuidMap must be a mapping of source uuid to target uuid", {
      file: tgt.file,
      line: lineOf(tgt, node),
      path: formatPath(UUID_MAP_PATH),
    });
  }
  for (const pair of node.items) {
    const from = isScalar(pair.key) ? pair.key.value : pair.key;
    const to = isScalar(pair.value) ? pair.value.value : pair.value;
    if (typeof from !== "string" || !isUuid(from) || typeof to !== "string" || !isUuid(to)) {
      const at = isNode(pair.key) ? pair.key : node;
      throw new ManifestError("spec.promotion.uuidMap entries must map a uuid to a uuid", {
        file: tgt.file,
        line: lineOf(tgt, at),
        path: formatPath([...UUID_MAP_PATH, String(from)]),
        hint: "Write each entry as `<uuid in the source environment>: <uuid in this environment>`.",
      });
    }
    entries.set(from.toLowerCase(), { to, line: lineOf(tgt, isNode(pair.value) ? pair.value : node), key: from });
  }
  return { file: tgt.file, entries };
}

/**
 * A copy of a source section with aliases expanded (the target has no such anchors), keys the target
 * keeps dropped, and uuids mapped through the target's uuidMap; records a finding per uuid.
 */
function portableCopy(
  src: Parsed,
  tgt: Parsed,
  node: unknown,
  section: { path: DocPath; keep: readonly string[] },
  uuidMap: UuidMap,
  envUuids: Map<string, { field: string; line?: number }>,
  findings: PromotionFinding[],
): unknown {
  const copy = expandAliases(src, isNode(node) ? (node as Node).clone() : node);
  if (isMap(copy) && section.keep.length > 0) {
    copy.items = copy.items.filter((p) => !section.keep.includes(keyOf(p) ?? ""));
  }
  visitScalars(copy, section.path, (scalar, path, isKey) => {
    if (typeof scalar.value !== "string") return;
    const replaced = isKey ? undefined : tgt.doc.getIn(path);
    const origin: ValueOrigin = { from: "source", file: src.file, line: lineOf(src, scalar), path: formatPath(path) };
    scalar.value = replaceUuids(scalar.value, (uuid) => {
      const lower = uuid.toLowerCase();
      if (lower === ORGANISATION_V4_SERVICE_UUID) return uuid;
      const mapped = uuidMap.entries.get(lower);
      if (mapped) {
        findings.push({ kind: "mapped", path: formatPath(path), uuid, mappedTo: mapped.to, origin });
        return mapped.to;
      }
      const env = envUuids.get(lower);
      if (env) findings.push({ kind: "refused", path: formatPath(path), uuid, sourceField: env.field, origin });
      else {
        const finding: PromotionFinding = { kind: "review", path: formatPath(path), uuid, origin };
        // Saying which of the target's own uuids it would overwrite makes a missing map entry obvious.
        if (typeof replaced === "string" && !replaced.toLowerCase().includes(lower)) {
          const previous = uuidsIn(replaced)[0];
          if (previous !== undefined) finding.replaces = previous;
        }
        findings.push(finding);
      }
      return uuid;
    });
  });
  // A map entry may itself point at one of the source's own uuids; the result must not hold it either.
  visitScalars(copy, section.path, (scalar, path) => {
    if (typeof scalar.value !== "string") return;
    for (const uuid of uuidsIn(scalar.value)) {
      const env = envUuids.get(uuid.toLowerCase());
      const entry = [...uuidMap.entries.values()].find((e) => e.to.toLowerCase() === uuid.toLowerCase());
      if (!env || !entry) continue;
      findings.push({
        kind: "refused",
        path: formatPath(path),
        uuid,
        sourceField: env.field,
        origin: { from: "uuidMap", file: uuidMap.file, line: entry.line, path: formatPath([...UUID_MAP_PATH, entry.key]) },
      });
    }
  });
  return copy;
}

/** Source environment uuids in what the target keeps: e.g. a prod manifest copied from test and never changed. */
function keptEnvironmentUuids(tgt: Parsed, envUuids: Map<string, { field: string; line?: number }>): PromotionFinding[] {
  const out: PromotionFinding[] = [];
  visitScalars(tgt.doc.contents, [], (scalar, path) => {
    if (startsWith(path, NOT_SCANNED) || isPortable(path)) return;
    if (typeof scalar.value !== "string") return;
    for (const uuid of uuidsIn(scalar.value)) {
      const env = envUuids.get(uuid.toLowerCase());
      if (!env) continue;
      out.push({
        kind: "refused",
        path: formatPath(path),
        uuid,
        sourceField: env.field,
        origin: { from: "target", file: tgt.file, line: lineOf(tgt, scalar), path: formatPath(path) },
      });
    }
  });
  return out;
}

function isPortable(path: DocPath): boolean {
  return PORTABLE_SECTIONS.some(
    (s) => startsWith(path, s.path) && !(path.length > s.path.length && s.keep.includes(String(path[s.path.length]))),
  );
}

/** Calls `visit` for every scalar, keys included (a key's path is the path of its entry). */
function visitScalars(node: unknown, path: DocPath, visit: (s: Scalar, path: DocPath, isKey: boolean) => void): void {
  if (isScalar(node)) visit(node, path, false);
  else if (isMap(node)) {
    for (const pair of node.items) {
      const k = keyOf(pair);
      const p = [...path, k ?? "?"];
      if (isScalar(pair.key)) visit(pair.key, p, true);
      visitScalars(pair.value, p, visit);
    }
  } else if (isSeq(node)) node.items.forEach((item, i) => visitScalars(item, [...path, i], visit));
}

function expandAliases(src: Parsed, node: unknown): unknown {
  if (isAlias(node)) {
    const resolved = node.resolve(src.doc);
    return expandAliases(src, resolved ? resolved.clone() : null);
  }
  if (isNode(node)) delete (node as { anchor?: string }).anchor;
  if (isMap(node)) {
    for (const pair of node.items) {
      pair.key = expandAliases(src, pair.key);
      pair.value = expandAliases(src, pair.value);
    }
  } else if (isSeq(node)) node.items = node.items.map((i) => expandAliases(src, i));
  return node;
}

function removeSection(tgt: Parsed, path: DocPath, keep: readonly string[]): void {
  const node = tgt.doc.getIn(path, true);
  if (node === undefined) return;
  if (isMap(node) && keep.length > 0) {
    node.items = node.items.filter((p) => keep.includes(keyOf(p) ?? ""));
    if (node.items.length > 0) return;
  }
  tgt.doc.deleteIn(path);
}

function setIn(tgt: Parsed, path: DocPath, value: unknown): void {
  try {
    tgt.doc.setIn(path, value);
  } catch {
    throw new ManifestError(`cannot place ${formatPath(path)}: its parent is not a mapping`, {
      file: tgt.file,
      path: formatPath(path.slice(0, -1)),
    });
  }
}

function withOriginalLayout(original: string, untouched: string, edited: string, stringify: typeof STRINGIFY): string {
  const merged = preserveLayout(original, untouched, edited);
  // The merge is line-based; if a layout difference ever spans lines in a way it cannot reconcile,
  // fall back to the library's rendering rather than risk a different document.
  const check = parseDocument(merged, { uniqueKeys: true });
  if (check.errors.length > 0 || check.toString(stringify) !== edited.replace(/\r\n/g, "\n")) return edited;
  return merged;
}

function lineOf(m: Parsed, node: unknown): number | undefined {
  if (!isNode(node) || !node.range) return undefined;
  return m.lines.linePos(node.range[0]).line;
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}

const KIND_ORDER: Record<PromotionFinding["kind"], number> = { refused: 0, review: 1, mapped: 2 };

/** Stable: within a kind, findings stay in document order. */
function byKind(a: PromotionFinding, b: PromotionFinding): number {
  return KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
}
