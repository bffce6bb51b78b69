#!/usr/bin/env node
// Writes docs/manifest.md, the manifest reference, from schemas/environment.schema.json, so the
// reference cannot drift from what `validate` enforces. `--check` exits 1 when the file is not
// current (CI runs it). `--schema PATH` and `--out PATH` point elsewhere (tests use them).
// Generic over JSON Schema 2020-12: properties, patternProperties, additionalProperties, items,
// $defs/$ref, const, enum, default, description, required, oneOf/anyOf/allOf, if/then/else.
import { readFileSync, writeFileSync, renameSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Renders the reference for `schema`; `schemaName` is the path shown in the header. */
export function renderManifestDocs(schema, schemaName) {
  const ctx = { schema, sections: [], seen: new Set() };
  collectSection(ctx, "(top level)", "top-level", schema, []);
  const out = [];
  out.push(`# Manifest reference${schema.title ? `: ${schema.title}` : ""}`, "");
  out.push(
    `<!-- Generated from ${schemaName} by scripts/gen-manifest-docs.mjs; do not edit by hand. ` +
      "Change the schema, then run `node scripts/gen-manifest-docs.mjs`. -->",
    "",
  );
  if (schema.description) out.push(escapeText(schema.description), "");
  out.push(
    "Each table lists the keys of one mapping: the key, its type, whether it is required, its default when left out, " +
      "and what it means. A key path like `spec.serviceAgreement.services[]` is a mapping inside a list.",
    "",
  );
  out.push("## Contents", "");
  for (const s of ctx.sections) out.push(`- [${s.title}](#${s.anchor})`);
  const defs = Object.keys(schema.$defs ?? {});
  if (defs.length > 0) out.push(`- [Definitions](#definitions)`);
  out.push("");
  for (const s of ctx.sections) out.push(...s.lines);
  if (defs.length > 0) {
    out.push(`<a id="definitions"></a>`, "", "## Definitions", "");
    out.push("Types referred to by name in the tables above.", "");
    for (const name of defs) out.push(...renderDefinition(ctx, name, schema.$defs[name]));
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

function collectSection(ctx, path, anchor, schema, refStack) {
  const resolved = deref(ctx, schema);
  const section = { title: path === "(top level)" ? path : code(path), anchor, lines: [] };
  ctx.sections.push(section);
  const lines = section.lines;
  lines.push(`<a id="${anchor}"></a>`, "", `## ${section.title}`, "");
  // The root's description opens the page already.
  const desc = path === "(top level)" ? undefined : (resolved.description ?? schema.description);
  if (desc) lines.push(escapeText(desc), "");
  const props = resolved.properties ?? {};
  const required = new Set(resolved.required ?? []);
  const children = [];
  lines.push("| Key | Type | Required | Default | Description |", "|---|---|---|---|---|");
  for (const [key, prop] of Object.entries(props)) {
    const childPath = path === "(top level)" ? key : `${path}.${key}`;
    const nested = nestedObject(ctx, prop, childPath, refStack);
    if (nested) children.push(nested);
    lines.push(
      `| ${code(key)} | ${typeText(ctx, prop, nested)} | ${required.has(key) ? "yes" : ""} | ${defaultText(prop)} | ${cell(describe(ctx, prop))} |`,
    );
  }
  for (const [pattern, prop] of Object.entries(resolved.patternProperties ?? {})) {
    lines.push(`| any key matching ${code(pattern)} | ${typeText(ctx, prop)} |  | ${defaultText(prop)} | ${cell(describe(ctx, prop))} |`);
  }
  if (isSchema(resolved.additionalProperties) && resolved.additionalProperties !== false) {
    const extra = resolved.additionalProperties;
    lines.push(`| any other key | ${typeText(ctx, extra)} |  | ${defaultText(extra)} | ${cell(describe(ctx, extra))} |`);
  }
  lines.push("");
  const conditions = conditionLines(ctx, resolved);
  if (conditions.length > 0) lines.push("Conditions:", "", ...conditions, "");
  if (resolved.additionalProperties === false) lines.push("Other keys are rejected.", "");
  for (const c of children) collectSection(ctx, c.path, c.anchor, c.schema, c.refStack);
}

/** The object schema a property opens a section for (directly, through a list, or through a $ref), if any. */
function nestedObject(ctx, prop, path, refStack) {
  let schema = prop;
  let stack = refStack;
  let suffix = "";
  for (let i = 0; i < 8 && isSchema(schema) && schema !== true && schema !== false; i++) {
    if (schema.$ref) {
      if (stack.includes(schema.$ref)) return undefined;
      stack = [...stack, schema.$ref];
      schema = deref(ctx, schema);
      continue;
    }
    if (schema.properties) {
      const full = path + suffix;
      return { path: full, anchor: anchorFor(full), schema, refStack: stack };
    }
    if (schema.items && typesOf(schema).includes("array")) {
      schema = schema.items;
      suffix += "[]";
      continue;
    }
    const alt = (schema.oneOf ?? schema.anyOf ?? []).find((s) => isSchema(s) && deref(ctx, s).properties);
    if (alt) {
      schema = alt;
      continue;
    }
    return undefined;
  }
  return undefined;
}

function typeText(ctx, prop, nested) {
  if (prop === true) return "any";
  if (prop === false) return "not allowed";
  if (prop.$ref) {
    const name = refName(prop.$ref);
    const own = nested ? ` ([keys](#${nested.anchor}))` : "";
    return `${name ? `[${code(name)}](#${anchorFor("def-" + name)})` : typeText(ctx, deref(ctx, prop))}${own}`;
  }
  if ("const" in prop) return code(JSON.stringify(prop.const));
  if (prop.oneOf || prop.anyOf) return (prop.oneOf ?? prop.anyOf).map((s) => typeText(ctx, s)).join(" or ");
  const types = typesOf(prop);
  if (types.length === 0 && prop.enum) types.push(...enumTypes(prop.enum));
  if (types.length === 0 && prop.properties) types.push("object");
  const parts = types.map((t) => {
    if (t === "array") {
      const item = prop.items === undefined ? "any" : typeText(ctx, prop.items, nested && nested.path.endsWith("[]") ? nested : undefined);
      return prop.items && nested && nested.path.endsWith("[]") && !prop.items.$ref ? `list of [mappings](#${nested.anchor})` : `list of ${item}`;
    }
    if (t === "object") {
      if (nested && !nested.path.endsWith("[]")) return `[mapping](#${nested.anchor})`;
      const valueSchemas = [
        ...Object.values(prop.patternProperties ?? {}),
        ...(isSchema(prop.additionalProperties) && prop.additionalProperties !== false && prop.additionalProperties !== true
          ? [prop.additionalProperties]
          : []),
      ];
      if (valueSchemas.length > 0) {
        const keyTypes = Object.keys(prop.patternProperties ?? {}).map((p) => defWithPattern(ctx, p));
        const keys = keyTypes.length > 0 && keyTypes.every(Boolean) ? [...new Set(keyTypes)].join(" or ") : "string";
        return `map from ${keys} to ${[...new Set(valueSchemas.map((s) => typeText(ctx, s)))].join(" or ")}`;
      }
      return "mapping";
    }
    if (t === "string" && prop.format) return `string (${prop.format})`;
    return t;
  });
  return parts.length > 0 ? parts.join(" or ") : "any";
}

function describe(ctx, prop) {
  if (!isSchema(prop) || prop === true || prop === false) return "";
  const parts = [];
  const resolved = prop.$ref ? deref(ctx, prop) : prop;
  const desc = prop.description ?? (prop.$ref ? undefined : resolved.description);
  if (desc) parts.push(escapeText(desc));
  const enumValues = prop.enum ?? (prop.items && !prop.items.$ref ? prop.items.enum : undefined);
  if (enumValues) parts.push(`One of: ${enumValues.map((v) => code(JSON.stringify(v))).join(", ")}.`);
  parts.push(...constraints(prop));
  for (const pattern of Object.keys(prop.patternProperties ?? {})) {
    if (!defWithPattern(ctx, pattern)) parts.push(`Keys must match ${code(pattern)}.`);
  }
  if (prop.items && !prop.items.$ref) parts.push(...constraints(prop.items).map((c) => `Each item: ${lowerFirst(c)}`));
  return parts.join(" ");
}

function constraints(s) {
  if (!isSchema(s) || s === true || s === false) return [];
  const out = [];
  if (s.pattern) out.push(`Must match ${code(s.pattern)}.`);
  if (s.minLength !== undefined && s.minLength > 0) out.push(s.minLength === 1 ? "Must not be empty." : `At least ${s.minLength} characters.`);
  if (s.maxLength !== undefined) out.push(`At most ${s.maxLength} characters.`);
  if (s.minimum !== undefined) out.push(`Minimum ${s.minimum}.`);
  if (s.exclusiveMinimum !== undefined) out.push(`Greater than ${s.exclusiveMinimum}.`);
  if (s.maximum !== undefined) out.push(`Maximum ${s.maximum}.`);
  if (s.exclusiveMaximum !== undefined) out.push(`Less than ${s.exclusiveMaximum}.`);
  if (s.minItems !== undefined && s.minItems > 0) out.push(`At least ${s.minItems} item${s.minItems === 1 ? "" : "s"}.`);
  if (s.maxItems !== undefined) out.push(`At most ${s.maxItems} items.`);
  if (s.uniqueItems) out.push("No duplicates.");
  return out;
}

function defaultText(prop) {
  if (!isSchema(prop) || prop === true || prop === false || !("default" in prop)) return "";
  const d = prop.default;
  // A string default in parentheses is a note for the reader (e.g. "(required)"), not a value.
  if (typeof d === "string" && /^\(.*\)$/.test(d)) return `*${cell(d.slice(1, -1))}*`;
  return code(JSON.stringify(d));
}

/** if/then/else (directly or inside allOf) as readable bullets. */
function conditionLines(ctx, schema) {
  const blocks = [schema, ...(schema.allOf ?? [])].filter((s) => isSchema(s) && s.if);
  const out = [];
  for (const b of blocks) {
    const when = summary(b.if, true) || "the condition holds";
    const then = b.then !== undefined ? summary(b.then, false) || "no further requirements" : undefined;
    const otherwise = b.else !== undefined ? summary(b.else, false) || "no further requirements" : undefined;
    let line = `- When ${when}`;
    line += then !== undefined ? `: ${then}.` : ".";
    if (otherwise !== undefined) line += ` Otherwise: ${otherwise}.`;
    out.push(line);
  }
  for (const s of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) {
    const text = summary(s, false);
    if (text && !deref(ctx, s).properties) out.push(`- ${schema.oneOf ? "Exactly one" : "At least one"} of the alternatives holds: ${text}.`);
  }
  return out;
}

/** A subschema's requirements in words: which keys are required, fixed, restricted or not allowed. */
function summary(s, asCondition) {
  if (!isSchema(s) || s === true) return "";
  if (s === false) return "never";
  const parts = [];
  const props = s.properties ?? {};
  for (const [key, p] of Object.entries(props)) {
    if (p === false) parts.push(`${code(key)} is not allowed`);
    else if (isSchema(p) && "const" in p) parts.push(`${code(key)} is ${code(JSON.stringify(p.const))}`);
    else if (isSchema(p) && p.enum) parts.push(`${code(key)} is one of ${p.enum.map((v) => code(JSON.stringify(v))).join(", ")}`);
  }
  const implied = new Set(Object.keys(props).filter((k) => props[k] !== false));
  const required = (s.required ?? []).filter((k) => !(asCondition && implied.has(k)));
  if (required.length > 0) parts.unshift(`${required.map(code).join(", ")} ${asCondition ? (required.length === 1 ? "is set" : "are set") : "required"}`);
  return parts.join(asCondition ? " and " : "; ");
}

function renderDefinition(ctx, name, def) {
  const lines = [`<a id="${anchorFor("def-" + name)}"></a>`, "", `### ${code(name)}`, ""];
  if (def === true || def === false) return [...lines, def ? "Any value." : "Never valid.", ""];
  lines.push(`Type: ${typeText(ctx, def)}.`, "");
  const text = describe(ctx, { ...def, enum: undefined });
  if (text) lines.push(text, "");
  if (def.enum) {
    lines.push("Allowed values:", "");
    for (const v of def.enum) lines.push(`- ${code(JSON.stringify(v))}`);
    lines.push("");
  }
  return lines;
}

function deref(ctx, s) {
  let cur = s;
  for (let i = 0; i < 16 && isSchema(cur) && cur.$ref; i++) {
    const ref = cur.$ref;
    if (!ref.startsWith("#")) throw new Error(`only local $ref is supported, found ${ref}`);
    let node = ctx.schema;
    for (const seg of ref.slice(1).split("/").filter(Boolean)) {
      node = node?.[seg.replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    if (node === undefined) throw new Error(`$ref ${ref} does not resolve`);
    cur = node;
  }
  return cur;
}

/** A link to the $def whose schema is just this string pattern, so map keys read as a named type. */
function defWithPattern(ctx, pattern) {
  for (const [name, def] of Object.entries(ctx.schema.$defs ?? {})) {
    if (isSchema(def) && def.pattern === pattern && typesOf(def).includes("string")) return `[${code(name)}](#${anchorFor("def-" + name)})`;
  }
  return undefined;
}

function refName(ref) {
  const m = /^#\/(?:\$defs|definitions)\/([^/]+)$/.exec(ref);
  return m ? m[1] : undefined;
}

function typesOf(s) {
  if (!isSchema(s) || s === true || s === false) return [];
  if (Array.isArray(s.type)) return [...s.type];
  return s.type ? [s.type] : [];
}

function enumTypes(values) {
  const names = values.map((v) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "number" ? "number" : typeof v));
  return [...new Set(names)];
}

function isSchema(s) {
  return s === true || s === false || (typeof s === "object" && s !== null && !Array.isArray(s));
}

function anchorFor(path) {
  return path.toLowerCase().replace(/\[\]/g, "-items").replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
}

function code(s) {
  const text = String(s).replace(/\|/g, "\\|");
  return text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** Escapes HTML-looking text outside code spans; tables additionally need `|` escaped. */
function escapeText(s) {
  return String(s)
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, "&lt;").replace(/>/g, "&gt;")))
    .join("");
}

function cell(s) {
  return String(s).replace(/\r?\n/g, "<br>").replace(/(?<!\\)\|/g, "\\|");
}

function lowerFirst(s) {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function parseArgs(argv) {
  const args = { check: false, schema: join(ROOT, "schemas", "environment.schema.json"), out: join(ROOT, "docs", "manifest.md") };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--check") args.check = true;
    else if (a === "--schema" && argv[i + 1]) args.schema = resolve(argv[++i]);
    else if (a === "--out" && argv[i + 1]) args.out = resolve(argv[++i]);
    else {
      process.stderr.write(`gen-manifest-docs: unknown argument ${a}\nUsage: node scripts/gen-manifest-docs.mjs [--check] [--schema PATH] [--out PATH]\n`);
      process.exit(2);
    }
  }
  return args;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  let schema;
  try {
    schema = JSON.parse(readFileSync(args.schema, "utf8"));
  } catch (e) {
    process.stderr.write(`gen-manifest-docs: cannot read ${args.schema}: ${e.message}\n`);
    process.exit(1);
  }
  const rel = (p) => relative(ROOT, p).split("\\").join("/") || p;
  const schemaName = args.schema.startsWith(ROOT) ? rel(args.schema) : args.schema;
  const text = renderManifestDocs(schema, schemaName);
  let current;
  try {
    current = readFileSync(args.out, "utf8");
  } catch {
    current = undefined;
  }
  if (args.check) {
    if (current === text) return;
    process.stderr.write(
      `${rel(args.out)} is not current with ${schemaName}.\n` +
        "Run `node scripts/gen-manifest-docs.mjs` and commit the result.\n",
    );
    process.exitCode = 1;
    return;
  }
  if (current === text) return;
  const tmp = `${args.out}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, args.out);
  process.stdout.write(`Wrote ${rel(args.out)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
