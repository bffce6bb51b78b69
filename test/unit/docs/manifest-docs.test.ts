import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderManifestDocs } from "../../../scripts/gen-manifest-docs.mjs";

const ROOT = join(import.meta.dirname, "../../..");
const SCRIPT = join(ROOT, "scripts/gen-manifest-docs.mjs");
const FIXTURE_SCHEMA = join(ROOT, "test/fixtures/promote/docs-schema.json");

async function gen(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [SCRIPT, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

describe("docs/manifest.md", () => {
  it("is current with schemas/environment.schema.json (what CI checks)", async () => {
    const r = await gen("--check");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("renderManifestDocs", () => {
  const schema = JSON.parse(readFileSync(FIXTURE_SCHEMA, "utf8"));
  const md = renderManifestDocs(schema, "widget.schema.json");

  it("renders a table per mapping with type, required, default, description and enums", () => {
    expect(md).toContain("# Manifest reference: widget manifest");
    expect(md).toContain("Generated from widget.schema.json");
    expect(md).toContain("| `name` | string | yes |  | Widget name \\| with a pipe. Must not be empty. |");
    expect(md).toContain('| `colour` | string | yes | `"red"` | Paint colour. One of: `"red"`, `"green"`. |');
    expect(md).toContain("| `owner` | [`uuid`](#def-uuid) |  |  | Owner's uuid. |");
    // A list of mappings gets its own table, linked from the list's row.
    expect(md).toContain("| `parts` | list of [mappings](#spec-parts-items) |");
    expect(md).toContain("## `spec.parts[]`");
    expect(md).toContain("| `count` | integer |  | `1` | Minimum 1. |");
    expect(md).toContain("| `size` | number or string |  |  | Either a number of millimetres or a named size. |");
    expect(md).toContain("| `labels` | map from string to string |  |  | Keys must match `^[a-z]+$`. |");
    expect(md).toContain('- When `colour` is `"green"`: `secretKey` required.');
    expect(md).toContain("### `uuid`");
    expect(md).toContain("Must match `^[0-9a-f-]{36}$`.");
  });

  it("follows the schema: a new enum value shows up", () => {
    const changed = structuredClone(schema);
    changed.properties.spec.properties.colour.enum.push("blue");
    expect(renderManifestDocs(changed, "widget.schema.json")).toContain('One of: `"red"`, `"green"`, `"blue"`.');
  });

  it("is deterministic", () => {
    expect(renderManifestDocs(structuredClone(schema), "widget.schema.json")).toBe(md);
  });
});

describe("gen-manifest-docs --check", () => {
  let dir: string;
  let out: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "stsorg-docs-"));
    out = join(dir, "reference.md");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("exits 1 naming the stale file without touching it, and 0 once regenerated", async () => {
    writeFileSync(out, "# out of date\n");
    const stale = await gen("--check", "--schema", FIXTURE_SCHEMA, "--out", out);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain("is not current");
    expect(readFileSync(out, "utf8")).toBe("# out of date\n");
    expect((await gen("--schema", FIXTURE_SCHEMA, "--out", out)).code).toBe(0);
    expect((await gen("--check", "--schema", FIXTURE_SCHEMA, "--out", out)).code).toBe(0);
  });
});
