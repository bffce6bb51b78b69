import { loadEnvironment, resolveSecret, type Environment, type SecretUse } from "../manifest/index.js";
import { computeDesiredState } from "../mapping/index.js";
import { copenhagenDate, cprKeyId, hashCpr, type ActualState, type DesiredState, type MoSnapshot, type RefreshMode, type StateFile } from "../model/index.js";
import type { EmbeddedSandbox } from "../sandbox/embedded.js";
import { readMoSnapshot, type ReadMoStats } from "../sources/os2mo/index.js";
import { openBackend, type StateBackend } from "../state/index.js";
import { createOs2syncClient, refreshActual, type Os2syncClient } from "../targets/os2sync/index.js";
import { fkClientOptionsFor, refreshFromFk } from "../targets/fk/index.js";
import { UsageError } from "../errors/index.js";
import type { CliIo } from "./io.js";
import { TOOL_VERSION } from "./version.js";

/**
 * Everything an environment-bound command works with, built once: the environment, its state backend,
 * its OS2sync client and OS2mo reader (against the embedded sandbox for `stage: sandbox`), and the
 * resolved CPR hash key. Secrets are resolved here, only for the parts the command uses.
 */
export interface CommandContext {
  env: Environment;
  backend: StateBackend;
  os2sync: Os2syncClient;
  /**
   * The same OS2sync for writes, with the client's own retries off: apply retries a write only after a
   * read-back shows it did not land, so no write is ever sent twice blind.
   */
  os2syncWriter: Os2syncClient;
  cprHashKey: string | null;
  embedded?: EmbeddedSandbox;
  /** The date OS2mo is read at (Copenhagen). */
  today: string;
  /** `signal` stops a read that is no longer wanted (the other side of a plan failed). */
  readMo(signal?: AbortSignal): Promise<{ snapshot: MoSnapshot; stats: ReadMoStats }>;
  refresh(mode: RefreshMode, state: StateFile | null, signal?: AbortSignal): Promise<ActualState>;
  /**
   * Checks what a refresh needs before anything is read (for `fk`: the certificate and the FK endpoints),
   * so a plan that cannot refresh fails at once instead of after reading all of OS2mo.
   */
  prepareRefresh(mode: RefreshMode): Promise<void>;
  desired(snapshot: MoSnapshot): DesiredState;
  close(): Promise<void>;
}

export async function loadEnv(nameOrPath: string, io: CliIo, secrets?: (env: Environment) => readonly SecretUse[]): Promise<Environment> {
  return loadEnvironment(nameOrPath, { cwd: io.cwd, env: io.env, now: io.now(), ...(secrets ? { secrets } : {}) });
}

/** The secrets a command that reads OS2mo and FK and keeps a state will use (the certificate's only for --refresh fk). */
function secretsUsed(env: Environment, opts: { needsOs2mo: boolean; needsCprKey?: boolean }): SecretUse[] {
  const uses: SecretUse[] = ["PostgreSQL URL", "state server password", "state server token"];
  if (env.sandbox) return uses;
  uses.push("OS2sync api key");
  if (opts.needsOs2mo) uses.push("OS2mo client secret");
  if (env.sync.syncCpr && opts.needsCprKey !== false) uses.push("CPR hash key");
  return uses;
}

export async function openContext(nameOrPath: string, io: CliIo, opts: { needsOs2mo: boolean; needsCprKey?: boolean }): Promise<CommandContext> {
  // Every secret the command will use is resolved first: a missing one is named with its file:line before
  // anything is contacted.
  const env = await loadEnv(nameOrPath, io, (e) => secretsUsed(e, opts));
  const secretOpts = { env: io.env, baseDir: env.baseDir, cwd: io.cwd };
  const today = copenhagenDate(io.now());
  let embedded: EmbeddedSandbox | undefined;
  if (env.sandbox) {
    // Loaded only here: the sandbox servers (GraphQL, certificates) are a large part of what stsorg loads.
    const { startEmbeddedSandbox } = await import("../sandbox/embedded.js");
    embedded = await startEmbeddedSandbox(env.sandbox, { baseDir: env.baseDir, cvr: env.municipality.cvr, today, adminTopUuid: env.sts.adminTopUuid });
    env.os2mo = { ...env.os2mo, url: embedded.os2mo.url, auth: { ...env.os2mo.auth, authServer: embedded.os2mo.authServer, realm: embedded.os2mo.realm, clientId: embedded.os2mo.clientId } };
    env.os2sync = { ...env.os2sync, url: embedded.os2sync.url };
  }
  try {
    const apiKey = env.os2sync.apiKey && !embedded ? await resolveSecret(env.os2sync.apiKey, secretOpts) : undefined;
    const progress = io.stderr;
    // The embedded OS2sync finishes a hierarchy job in milliseconds; a real one takes minutes.
    const poll = embedded ? { hierarchyPollInitialMs: 25, hierarchyPollMaxMs: 200 } : {};
    const os2sync = createOs2syncClient(env, { apiKey, progress }, poll);
    const os2syncWriter = createOs2syncClient(env, { apiKey, progress }, { ...poll, retries: 0 });
    let cprHashKey: string | null = null;
    if (env.sync.syncCpr && opts.needsCprKey !== false) {
      if (!env.cprHashKey) {
        throw new UsageError("sync.syncCpr is on but sync.cprHashKey is not set.", {
          path: "spec.sync.cprHashKey",
          hint: 'Set spec.sync.cprHashKey to a secret reference such as "${env:STSORG_CPR_KEY}".',
        });
      }
      cprHashKey = await resolveSecret(env.cprHashKey, secretOpts);
    }
    let moSecret: string | undefined;
    let fkConfig: ReturnType<typeof fkClientOptionsFor> | undefined;
    const fkOptions = () =>
      (fkConfig ??= (async () => {
        const fk = embedded ? await embedded.fk() : undefined;
        return fkClientOptionsFor(env, secretOpts, { now: io.now(), progress: io.stderr, override: fk });
      })());
    const ctx: CommandContext = {
      env,
      backend: openBackend(env, io, { version: TOOL_VERSION }),
      os2sync,
      os2syncWriter,
      cprHashKey,
      embedded,
      today,
      async readMo(signal) {
        if (moSecret === undefined) {
          moSecret = embedded ? embedded.os2mo.clientSecret : await resolveSecret(env.os2mo.auth.clientSecret, secretOpts);
        }
        return readMoSnapshot(
          { ...env.os2mo, clientSecret: moSecret },
          { topUnitUuid: env.sync.topUnitUuid, today, progress: io.stderr.isTTY ? io.stderr : undefined, ...(signal ? { signal } : {}) },
        );
      },
      async refresh(mode, state, signal) {
        const key = cprHashKey;
        if (mode === "fk") {
          const config = await fkOptions();
          return refreshFromFk({
            config,
            state,
            now: () => io.now(),
            progress: io.stderr,
            syncCpr: env.sync.syncCpr,
            ...(signal ? { signal } : {}),
            ...(key !== null ? { hashCpr: (cpr: string) => hashCpr(cpr, key) } : {}),
          });
        }
        return refreshActual(mode, {
          client: os2sync,
          state,
          now: () => io.now(),
          concurrency: env.os2sync.concurrency,
          progress: io.stderr,
          ...(signal ? { signal } : {}),
          ...(key !== null ? { hashCpr: (cpr: string) => hashCpr(cpr, key) } : {}),
        });
      },
      async prepareRefresh(mode) {
        if (mode === "fk") await fkOptions();
      },
      desired(snapshot) {
        return computeDesiredState(snapshot, env.sync);
      },
      async close() {
        await ctx.backend.close?.();
        await embedded?.stop();
      },
    };
    return ctx;
  } catch (e) {
    await embedded?.stop();
    throw e;
  }
}

export { cprKeyId };
