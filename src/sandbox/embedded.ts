import { existsSync, mkdirSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { SandboxConfig } from "../manifest/types.js";
import { generateMunicipality, readFixture, writeFixture, type MoFixture } from "./fixtures/index.js";
import { startOs2moSandbox, type Os2moSandbox } from "./os2mo/index.js";
import { startOs2syncSandbox, type Os2syncSandbox } from "./os2sync/index.js";
import { startEmbeddedFk, type EmbeddedFk } from "./fk/embedded.js";

/**
 * The embedded sandbox behind a `stage: sandbox` environment (the demo): an OS2mo and an OS2sync
 * sandbox started in-process on loopback ports for the length of one command. Their data lives in
 * `dataDir` (default `.stsorg/`), so separate commands see the same OS2mo and the same FK:
 * - `os2mo.json`: the OS2mo fixture, generated from `fixture`/`seed` on first use; edit it (or use
 *   `mutateEmbeddedOs2mo`) to change "OS2mo" between commands;
 * - `fk.json`: the FK store behind the OS2sync sandbox.
 * The FK GraphQL sandbox (for `--refresh fk`) serves the same store; it is started on first use, since
 * making its certificates takes a moment that other commands need not spend.
 * When the command ends, queued OS2sync work is applied before the store is saved: a real OS2sync
 * keeps running and drains its queue; a process that stops must not drop it.
 */
export interface EmbeddedSandbox {
  os2mo: Os2moSandbox;
  os2sync: Os2syncSandbox;
  /** The fixture file OS2mo is served from. */
  fixtureFile: string;
  /** The FK GraphQL sandbox over the OS2sync sandbox's store, with a client certificate for the CVR. */
  fk(): Promise<EmbeddedFk>;
  stop(): Promise<void>;
}

export const EMBEDDED_CLIENT_ID = "stsorg";
export const EMBEDDED_CLIENT_SECRET = "embedded-sandbox";

export function embeddedDataDir(config: SandboxConfig, baseDir: string): string {
  return isAbsolute(config.dataDir) ? config.dataDir : resolve(baseDir, config.dataDir);
}

/** Reads the embedded OS2mo fixture, generating it on first use. */
export async function loadEmbeddedFixture(config: SandboxConfig, baseDir: string, today: string): Promise<{ file: string; fixture: MoFixture }> {
  const dir = embeddedDataDir(config, baseDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "os2mo.json");
  if (existsSync(file)) return { file, fixture: await readFixture(file) };
  const fixture = generateMunicipality({ size: config.fixture, seed: config.seed, today });
  await writeFixture(file, fixture);
  return { file, fixture };
}

export async function startEmbeddedSandbox(
  config: SandboxConfig,
  opts: { baseDir: string; cvr: string; today: string; adminTopUuid: string },
): Promise<EmbeddedSandbox> {
  const { file, fixture } = await loadEmbeddedFixture(config, opts.baseDir, opts.today);
  const dir = embeddedDataDir(config, opts.baseDir);
  const fkFile = join(dir, "fk.json");
  const firstStart = !existsSync(fkFile);
  const os2mo = await startOs2moSandbox({ fixture, clientId: EMBEDDED_CLIENT_ID, clientSecret: EMBEDDED_CLIENT_SECRET });
  let os2sync: Os2syncSandbox;
  try {
    os2sync = await startOs2syncSandbox({ cvr: opts.cvr, dataFile: fkFile, queueDelayMs: 0, queueIntervalMs: 20 });
    // The seed guide's precondition: the municipality's root unit exists in STS Organisation before
    // the first sync. A new embedded FK starts with it, as a real one would.
    if (firstStart) os2sync.store.put("orgunit", { Uuid: opts.adminTopUuid, Name: fixture.municipality.name, Type: "DEPARTMENT" });
  } catch (e) {
    await os2mo.stop();
    throw e;
  }
  let fk: Promise<EmbeddedFk> | undefined;
  return {
    os2mo,
    os2sync,
    fixtureFile: file,
    fk: () => (fk ??= startEmbeddedFk(os2sync.store, opts.cvr)),
    async stop() {
      os2sync.flush();
      const fkStarted = fk?.then((f) => f.sandbox.stop()).catch(() => undefined);
      await Promise.all([os2sync.stop(), os2mo.stop(), fkStarted]);
    },
  };
}

/** Changes the embedded OS2mo's data between commands (the demo's scripted changes, tests). */
export async function mutateEmbeddedOs2mo(
  config: SandboxConfig,
  baseDir: string,
  today: string,
  change: (fixture: MoFixture) => void,
): Promise<void> {
  const { file, fixture } = await loadEmbeddedFixture(config, baseDir, today);
  change(fixture);
  await writeFixture(file, fixture);
}
