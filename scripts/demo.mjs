#!/usr/bin/env node
// The guided demo: validate → plan → apply → a scripted change in the OS2mo sandbox → plan → apply → plan.
// Runs against the embedded sandboxes of environments/demo.yaml; no network, no setup. It starts from a
// fresh .stsorg/ so every run tells the same story.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "bin", "stsorg");
const { mutateEmbeddedOs2mo } = await import(join(root, "dist", "sandbox", "embedded.js"));
const { copenhagenDate } = await import(join(root, "dist", "sandbox", "os2mo", "dates.js"));

const bold = process.stdout.isTTY && !process.env.NO_COLOR ? (s) => `\x1b[1m${s}\x1b[0m` : (s) => s;
let step = 0;
function heading(text) {
  step += 1;
  process.stdout.write(`\n${bold(`━━ ${step}. ${text} ${"━".repeat(Math.max(0, 70 - text.length))}`)}\n\n`);
}
function stsorg(args, { allow = [0] } = {}) {
  process.stdout.write(`$ stsorg ${args.join(" ")}\n`);
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, stdio: "inherit" });
  if (!allow.includes(r.status ?? -1)) {
    process.stderr.write(`\nstsorg ${args.join(" ")} exited ${r.status ?? r.signal}; the demo stops here.\n`);
    process.exit(1);
  }
  return r.status;
}

rmSync(join(root, ".stsorg"), { recursive: true, force: true });

heading("Validate the demo environment manifest");
stsorg(["validate", "-e", "demo"]);

heading("Plan: what would stsorg write to an STS Organisation that holds only the root unit?");
stsorg(["plan", "-e", "demo", "--summary", "--detailed-exitcode"], { allow: [2] });

heading("Apply: carry the plan out through OS2sync and record every write in the state");
stsorg(["apply", "-e", "demo", "--auto-approve", "--summary", "--wait=2m"]);

heading("Change OS2mo: a rename, a move, a new unit and a person leaving");
const sandbox = { fixture: "small", seed: 1, dataDir: ".stsorg" };
const today = copenhagenDate(new Date());
const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
await mutateEmbeddedOs2mo(sandbox, root, today, (f) => {
  const top = f.topUnitUuid;
  const current = (x) => x.validity.from <= today && (x.validity.to === null || x.validity.to >= today);
  const units = f.orgUnits.filter((u) => current(u) && u.parent !== null);
  const children = units.filter((u) => u.parent === top);
  const renamed = children[0];
  process.stdout.write(`  rename: "${renamed.name}" -> "${renamed.name} og Digitalisering"\n`);
  renamed.name = `${renamed.name} og Digitalisering`;
  const leaf = units.find((u) => u.parent !== top && !units.some((c) => c.parent === u.uuid) && u.parent !== children[1].uuid);
  process.stdout.write(`  move:   "${leaf.name}" under "${children[1].name}"\n`);
  leaf.parent = children[1].uuid;
  const added = { ...children[1], uuid: "5e1f0c4a-9b7d-4e2a-8c3f-1d6b2a9e7f40", name: "Center for Klima", user_key: "KLIMA", parent: top, validity: { from: yesterday, to: null } };
  process.stdout.write(`  add:    "${added.name}"\n`);
  f.orgUnits.push(added);
  f.orgUnits.sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
  const leaving = f.persons.find((p) => f.engagements.filter((e) => e.person === p.uuid && current(e)).length === 1);
  process.stdout.write(`  leave:  "${leaving.name}" (engagement ended yesterday)\n`);
  for (const e of f.engagements) if (e.person === leaving.uuid && current(e)) e.validity.to = yesterday;
});

heading("Plan: exactly those changes");
stsorg(["plan", "-e", "demo", "--detailed-exitcode"], { allow: [2] });

heading("Apply them");
stsorg(["apply", "-e", "demo", "--auto-approve", "--summary", "--wait=2m"]);

heading("Plan again: nothing left to do");
stsorg(["plan", "-e", "demo", "--detailed-exitcode"]);
