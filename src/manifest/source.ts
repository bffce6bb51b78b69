import { readFileSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { ManifestError } from "../errors/index.js";
import { sha256Hex } from "../model/index.js";
import type { DocPath, Finding } from "./diagnostics.js";

/** A manifest file read from disk and parsed, with what is needed to point at any node in it. */
export interface ManifestSource {
  /** Absolute path. */
  file: string;
  /** Folder relative paths in the manifest resolve against: the one holding `environments/`. */
  baseDir: string;
  sha256: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** The document as plain data (undefined for an empty document). */
  value: unknown;
}

/** `-e test` means `<cwd>/environments/test.yaml`; anything with a slash or a YAML suffix is a path. */
export function manifestPathFor(nameOrPath: string, cwd: string): string {
  if (/[\\/]/.test(nameOrPath) || /\.ya?ml$/i.test(nameOrPath)) {
    return isAbsolute(nameOrPath) ? nameOrPath : resolve(cwd, nameOrPath);
  }
  return join(cwd, "environments", `${nameOrPath}.yaml`);
}

export function baseDirFor(file: string): string {
  const dir = dirname(file);
  return basename(dir) === "environments" ? dirname(dir) : dir;
}

function availableEnvironments(cwd: string): string[] {
  try {
    return readdirSync(join(cwd, "environments"))
      .filter((n) => /\.ya?ml$/i.test(n))
      .map((n) => n.replace(/\.ya?ml$/i, ""))
      .sort();
  } catch {
    return [];
  }
}

/** Reads the manifest's bytes. Every way this can fail is a ManifestError naming the file and what to do. */
export function readManifestBytes(nameOrPath: string, cwd: string): { file: string; bytes: Buffer } {
  const file = manifestPathFor(nameOrPath, cwd);
  let bytes: Buffer;
  try {
    if (statSync(file).isDirectory()) {
      throw new ManifestError(`${file} is a directory, not a manifest file`, {
        file,
        hint: "Pass an environment name (environments/NAME.yaml) or the path of a .yaml file.",
      });
    }
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof ManifestError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      const known = availableEnvironments(cwd);
      const isName = file === join(cwd, "environments", `${nameOrPath}.yaml`);
      throw new ManifestError(`manifest ${file} does not exist`, {
        file,
        hint: isName
          ? known.length > 0
            ? `Environments found in ${join(cwd, "environments")}: ${known.join(", ")}.`
            : `No environments/ folder with manifests in ${cwd}; run stsorg from the project folder or pass a path.`
          : "Check the path.",
      });
    }
    if (code === "EACCES" || code === "EPERM") {
      throw new ManifestError(`manifest ${file} cannot be read: permission denied`, {
        file,
        hint: "Make the file readable for the user running stsorg.",
      });
    }
    throw new ManifestError(`manifest ${file} cannot be read (${code ?? "unknown error"})`, { file });
  }
  return { file, bytes };
}

function looksBinary(bytes: Buffer): boolean {
  if (bytes.includes(0)) return true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return false;
  } catch {
    return true;
  }
}

/**
 * Parses a manifest's bytes. Returns findings for YAML syntax problems (with their positions) rather
 * than throwing, so `validate` can list them with everything else; throws only when there is no text.
 */
export function parseManifest(file: string, bytes: Buffer): { source: ManifestSource; findings: Finding[]; yamlErrors: YamlProblem[] } {
  if (looksBinary(bytes)) {
    throw new ManifestError(`${file} is not a text file (it holds binary data)`, {
      file,
      hint: "An environment manifest is a UTF-8 YAML file; check that the right file was named.",
    });
  }
  let text = bytes.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === "" || text.split(/\r?\n/).every((l) => /^\s*(#.*)?$/.test(l))) {
    throw new ManifestError(`${file} is empty`, {
      file,
      hint: "Start from environments/test.yaml; see schemas/environment.schema.json for every key.",
    });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const yamlErrors: YamlProblem[] = [];
  for (const err of doc.errors) {
    const pos = lineCounter.linePos(err.pos[0]);
    yamlErrors.push({ message: yamlMessage(err.message), line: pos.line, column: pos.col, code: `yaml.${err.code.toLowerCase()}` });
  }
  let value: unknown = undefined;
  if (yamlErrors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // Aliases that expand without bound (a "billion laughs" document) are refused by the library.
      yamlErrors.push({ message: `YAML cannot be expanded: ${e instanceof Error ? e.message : String(e)}`, line: 1, column: 1, code: "yaml.aliases" });
    }
  }
  return {
    source: { file, baseDir: baseDirFor(file), sha256: sha256Hex(bytes), doc, lineCounter, value },
    findings: [],
    yamlErrors,
  };
}

export interface YamlProblem {
  message: string;
  line: number;
  column: number;
  code: string;
}

function yamlMessage(message: string): string {
  // The library appends a source excerpt after a blank line; the location is reported separately.
  const first = message.split(/\n/)[0] ?? message;
  if (/multiple documents/.test(first)) return "YAML syntax error: a manifest holds exactly one YAML document; remove the `---` separator and what follows";
  return `YAML syntax error: ${first.replace(/ at line \d+, column \d+:?$/, "")}`;
}

/**
 * The 1-based line and column of the node at `path`, or of its nearest existing ancestor when the
 * path does not exist (a missing key is reported where its parent is). `atKey` points at the key.
 */
export function positionOf(source: ManifestSource, path: DocPath, atKey = false): { line: number; column: number } {
  let node: unknown = source.doc.contents;
  let keyNode: unknown = undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg];
      if (item === undefined) break;
      keyNode = item;
      node = item;
    } else {
      break;
    }
  }
  const target = (atKey && keyNode) || (isNodeWithRange(node) ? node : keyNode);
  const offset = isNodeWithRange(target) ? target.range[0] : 0;
  const pos = source.lineCounter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function isNodeWithRange(n: unknown): n is Node & { range: [number, number, number] } {
  return typeof n === "object" && n !== null && Array.isArray((n as { range?: unknown }).range);
}

/** Every scalar string in the document with its path, for checks that look at all values (hosts). */
export function stringScalars(source: ManifestSource): { path: DocPath; value: string }[] {
  const out: { path: DocPath; value: string }[] = [];
  const walk = (node: unknown, path: DocPath): void => {
    if (isMap(node)) {
      for (const p of node.items) {
        const k = keyText(p.key);
        if (k !== undefined) walk(p.value, [...path, k]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === "string") {
      out.push({ path, value: node.value });
    }
  };
  walk(source.doc.contents, []);
  return out;
}
