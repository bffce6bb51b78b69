import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import type { Argv } from "yargs";
import { LockError, StateError, unreadableFile, UsageError } from "../../errors/index.js";
import { isHashedCpr, parseAddress, type StateFile, type StateResource } from "../../model/index.js";
import {
  decodeState,
  encodeState,
  findResource,
  formatLockInfo,
  openBackend,
  openBackendOfKind,
  removeResource,
  stateChecksum,
  whoAmI,
  withLock,
  BACKEND_KINDS,
  type BackendKind,
  type StateBackend,
} from "../../state/index.js";
import { withEnvironment, type Command } from "../command.js";
import { loadEnv } from "../context.js";
import { parseDuration } from "../duration.js";
import type { CliIo } from "../io.js";
import { lockNotices } from "../planning.js";
import { TOOL_VERSION } from "../version.js";

/** `stsorg state <subcommand>`: inspect and repair the state, as `terraform state …` does. */

export const STATE_SUBCOMMANDS = ["list", "show", "pull", "push", "rm", "unlock", "migrate"] as const;

export type StateArgs =
  | { action: "list" }
  | { action: "show"; address: string }
  | { action: "pull" }
  | { action: "push"; file: string; force: boolean }
  | { action: "rm"; address: string }
  | { action: "unlock"; id: string; force: boolean }
  /** Copy the state from `from` (a backend kind, or a local file) into the backend the manifest names. */
  | { action: "migrate"; to: BackendKind; from: BackendKind; fromPath?: string };

export const stateCommand: Command = {
  command: "state <subcommand> [target]",
  describe: "Inspect or repair the state: list | show ADDRESS | pull | push FILE | rm ADDRESS | unlock ID | migrate --to-backend KIND",
  builder: (y: Argv) =>
    withEnvironment(y)
      .positional("subcommand", { choices: STATE_SUBCOMMANDS, describe: "What to do" })
      .positional("target", { type: "string", describe: "ADDRESS (show, rm), FILE (push) or lock ID (unlock)" })
      .option("force", { type: "boolean", default: false, describe: "push: overwrite another lineage or a newer serial; unlock: do not ask" })
      .option("lock-timeout", { type: "string", default: "0s", describe: "How long to wait for the state lock (push, rm, migrate)" })
      .option("to-backend", { type: "string", choices: BACKEND_KINDS, describe: "migrate: the backend to copy the state into; must be the one spec.state.backend names" })
      .option("from-backend", { type: "string", choices: BACKEND_KINDS, describe: "migrate: the backend the state is in now, with its spec.state settings (default: local)" })
      .option("from-path", { type: "string", describe: "migrate: the local state file the state is in now (implies --from-backend local)" })
      .example("$0 state list -e prod", "Every object stsorg manages in prod")
      .example("$0 state show -e prod orgunit/3f0a9c52-7d4e-4b8a-9e61-2c5d8b7a4f10", "What was last applied to one object")
      .example("$0 state rm -e prod user/…", "Forget an object (FK is not touched)")
      .example("$0 state unlock -e prod 5b1e…", "Release the lock of a crashed run")
      .example("$0 state migrate -e prod --to-backend postgres", "Copy prod's local state file into PostgreSQL (spec.state.backend: postgres)"),
  handler: async (args, io) => {
    const parsed = parseStateArgs(args);
    const lockTimeoutMs = parseDuration(String(args["lock-timeout"] ?? "0s"), "--lock-timeout");
    const env = await loadEnv(String(args.environment), io);
    if (parsed.action === "migrate") {
      if (parsed.to !== env.state.backend) {
        throw new UsageError(`The manifest keeps the state in "${env.state.backend}" (spec.state.backend), not "${parsed.to}".`, {
          path: "spec.state.backend",
          hint: `Set spec.state.backend: ${parsed.to} (keeping the settings of the backend the state is in now), then run migrate again; the manifest names where the state goes.`,
        });
      }
      const source = openBackendOfKind(parsed.from, env, io, {
        version: TOOL_VERSION,
        ...(parsed.fromPath !== undefined ? { localPath: isAbsolute(parsed.fromPath) ? parsed.fromPath : resolve(io.cwd, parsed.fromPath) } : {}),
      });
      const destination = openBackend(env, io, { version: TOOL_VERSION });
      try {
        return await runMigrate({ source, destination, io, environment: env.name, lockTimeoutMs });
      } finally {
        await Promise.all([source.close?.(), destination.close?.()]);
      }
    }
    const backend = openBackend(env, io, { version: TOOL_VERSION });
    try {
      return await runState(parsed, { backend, io, environment: env.name, lockTimeoutMs });
    } finally {
      await backend.close?.();
    }
  },
};

export function parseStateArgs(args: Record<string, unknown>): StateArgs {
  const action = String(args.subcommand);
  const target = typeof args.target === "string" && args.target !== "" ? args.target : undefined;
  const force = args.force === true;
  const need = (what: string): string => {
    if (target === undefined) throw new UsageError(`stsorg state ${action} needs ${what}.`, { hint: `Usage: stsorg state ${action} -e ENV ${what}` });
    return target;
  };
  const none = () => {
    if (target !== undefined) throw new UsageError(`stsorg state ${action} takes no argument (got "${target}").`);
  };
  switch (action) {
    case "list":
    case "pull":
      none();
      return { action };
    case "show":
    case "rm": {
      const address = need("ADDRESS");
      if (!parseAddress(address)) {
        throw new UsageError(`"${address}" is not a resource address.`, { hint: "Addresses look like orgunit/<uuid> or user/<uuid>; see `stsorg state list`." });
      }
      return { action, address: address.toLowerCase() };
    }
    case "push":
      return { action, file: need("FILE"), force };
    case "unlock":
      return { action, id: need("ID"), force };
    case "migrate": {
      none();
      const to = args["to-backend"];
      if (typeof to !== "string" || !(BACKEND_KINDS as readonly string[]).includes(to)) {
        throw new UsageError("stsorg state migrate needs --to-backend local|postgres|http.", {
          hint: "Usage: stsorg state migrate -e ENV --to-backend postgres [--from-backend local | --from-path FILE]",
        });
      }
      const fromPath = typeof args["from-path"] === "string" && args["from-path"] !== "" ? args["from-path"] : undefined;
      const fromArg = typeof args["from-backend"] === "string" ? (args["from-backend"] as BackendKind) : undefined;
      if (fromPath !== undefined && fromArg !== undefined && fromArg !== "local") {
        throw new UsageError(`--from-path names a local state file; it cannot be combined with --from-backend ${fromArg}.`);
      }
      const from: BackendKind = fromArg ?? "local";
      if (from === to && !(to === "local" && fromPath !== undefined)) {
        throw new UsageError(`The state is to move from "${from}" to "${to}": that is the same backend.`, {
          hint: to === "local" ? "To move a local state file, give the old file with --from-path." : "Name the backend the state is in now with --from-backend.",
        });
      }
      const out: StateArgs = { action, to: to as BackendKind, from };
      if (fromPath !== undefined) out.fromPath = fromPath;
      return out;
    }
    default:
      throw new UsageError(`Unknown state subcommand "${action}".`, { hint: `Use one of: ${STATE_SUBCOMMANDS.join(", ")}.` });
  }
}

export interface StateRunDeps {
  backend: StateBackend;
  io: CliIo;
  environment: string;
  lockTimeoutMs?: number;
}

export async function runState(a: StateArgs, deps: StateRunDeps): Promise<number> {
  const { backend, io } = deps;
  const lockOpts = (operation: string) => ({
    operation,
    environment: deps.environment,
    who: whoAmI(),
    lockTimeoutMs: deps.lockTimeoutMs ?? 0,
    now: () => io.now(),
    onWait: () => io.stderr.write("Acquiring state lock. This may take a few moments...\n"),
    onTakeOver: lockNotices(io).onTakeOver,
  });
  switch (a.action) {
    case "list": {
      const state = await backend.read();
      if (state === null) {
        io.stderr.write(noStateMessage(deps.environment, backend) + "\n");
        return 0;
      }
      io.stdout.write(state.resources.map((r) => r.address + "\n").join(""));
      return 0;
    }
    case "show": {
      const state = await requireState(backend, deps.environment);
      const r = findResource(state, a.address);
      const pending = state.pending.filter((p) => p.address === a.address);
      if (!r && pending.length === 0) throw notInState(a.address);
      io.stdout.write(formatResource(a.address, r, pending));
      return 0;
    }
    case "pull": {
      const state = await requireState(backend, deps.environment);
      io.stdout.write(encodeState(state));
      return 0;
    }
    case "push": {
      const path = isAbsolute(a.file) ? a.file : resolve(io.cwd, a.file);
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (e) {
        throw new StateError(`the state file to push ${unreadableFile(e)}`, { file: a.file, hint: "Give a state file, e.g. one written by `stsorg state pull > FILE`." });
      }
      const incoming = decodeState(text, { source: path, checksumOptional: true, ignoreChecksum: a.force });
      const state = await backend.read();
      // Checked before the lock too, so a wrong file fails fast; identity is never forced.
      if (state) checkPushIdentity(incoming, state, path);
      return withLock(backend, lockOpts("state push"), async (lock) => {
        const current = await backend.read();
        const next = pushedState(incoming, current, a.force);
        if (next === current) {
          io.stdout.write(`The state already holds lineage ${incoming.lineage} serial ${incoming.serial}; nothing to push.\n`);
          return 0;
        }
        await backend.write(next, {
          lineage: current?.lineage ?? null,
          serial: current?.serial ?? null,
          lockId: lock.ID,
        });
        io.stdout.write(`State pushed to ${backend.describe()}: lineage ${next.lineage}, serial ${next.serial}, ${next.resources.length} resource(s).\n`);
        return 0;
      });
    }
    case "rm": {
      return withLock(backend, lockOpts("state rm"), async (lock) => {
        const state = await requireState(backend, deps.environment);
        const hadPending = state.pending.some((p) => p.address === a.address);
        if (!findResource(state, a.address) && !hadPending) throw notInState(a.address);
        let next = findResource(state, a.address) ? removeResource(state, a.address) : { ...state, serial: state.serial + 1 };
        if (hadPending) next = { ...next, pending: next.pending.filter((p) => p.address !== a.address) };
        await backend.write(next, { lineage: state.lineage, serial: state.serial, lockId: lock.ID });
        io.stdout.write(`Removed ${a.address}\nSuccessfully removed 1 resource instance(s). FK was not changed; stsorg no longer manages this object.\n`);
        return 0;
      });
    }
    case "migrate":
      throw new UsageError("stsorg state migrate needs two backends; it runs through runMigrate.");
    case "unlock": {
      const held = await backend.currentLock();
      if (held === null) {
        throw new LockError(`The state is not locked (${backend.describe()}).`, { hint: "Nothing to unlock." });
      }
      if (held.ID !== a.id) {
        throw new LockError(`Lock ID ${a.id} does not match the lock held on ${backend.describe()}.\nLock Info:\n${formatLockInfo(held, io.now())}`, {
          hint: `To release that lock: stsorg state unlock -e ${deps.environment} ${held.ID}`,
        });
      }
      if (!a.force) {
        io.stderr.write(
          `Lock Info:\n${formatLockInfo(held, io.now())}\n\n` +
            "Do you really want to force-unlock?\n" +
            "  stsorg will remove the lock on the state. This lets other stsorg runs change the state\n" +
            "  even though the run that holds it may still be working.\n" +
            "  Only 'yes' will be accepted to confirm.\n\n",
        );
        const answer = await io.readLine("  Enter a value: ");
        if (answer === null) {
          throw new UsageError("Cannot ask for confirmation: standard input is not a terminal.", {
            hint: `Run it in a terminal, or add --force: stsorg state unlock -e ${deps.environment} --force ${a.id}`,
          });
        }
        if (answer.trim() !== "yes") {
          io.stderr.write("Unlock cancelled: the lock was not released.\n");
          return 1;
        }
      }
      await backend.unlock(a.id);
      io.stdout.write(`The state has been unlocked (lock ${a.id}, held by ${held.Who} for "${held.Operation}").\n`);
      return 0;
    }
  }
}

export interface MigrateDeps {
  /** Where the state is now. */
  source: StateBackend;
  /** The backend the manifest names. */
  destination: StateBackend;
  io: CliIo;
  environment: string;
  lockTimeoutMs?: number;
}

/**
 * Copies the state as it is (same lineage, serial and journal) from `source` into `destination`, under
 * the locks of both, reads it back from the destination and reports success only when the checksums
 * agree. The source is left unchanged. A destination that already holds exactly this state counts as
 * migrated; one that holds any other state is refused (it could be another run's work).
 */
export async function runMigrate(deps: MigrateDeps): Promise<number> {
  const { source, destination, io } = deps;
  const lockOpts = {
    operation: "state migrate",
    environment: deps.environment,
    who: whoAmI(),
    lockTimeoutMs: deps.lockTimeoutMs ?? 0,
    now: () => io.now(),
    onWait: () => io.stderr.write("Acquiring state lock. This may take a few moments...\n"),
  };
  if ((await source.read()) === null) {
    throw new StateError(`No state to migrate: ${source.describe()} holds none for environment "${deps.environment}".`, {
      hint: "Name where the state is now with --from-backend or --from-path.",
    });
  }
  return withLock(source, lockOpts, () =>
    withLock(destination, lockOpts, async (destLock) => {
      const state = await source.read();
      if (state === null) throw new StateError(`The state in ${source.describe()} disappeared while it was being migrated.`);
      const checksum = stateChecksum(state);
      const existing = await destination.read();
      const summary = `lineage ${state.lineage}, serial ${state.serial}, ${state.resources.length} resource(s)` + (state.pending.length > 0 ? `, ${state.pending.length} unsettled write(s)` : "");
      if (existing !== null) {
        if (stateChecksum(existing) === checksum) {
          io.stdout.write(`${destination.describe()} already holds this state (${summary}); nothing to migrate.\n`);
          return 0;
        }
        throw new StateError(
          `Cannot migrate: ${destination.describe()} already holds a state (lineage ${existing.lineage}, serial ${existing.serial}), which differs from the one in ${source.describe()} (lineage ${state.lineage}, serial ${state.serial}).`,
          { hint: "Check which one is current. To replace the destination's state, `stsorg state pull` the one you want and `stsorg state push --force` it." },
        );
      }
      await destination.write(state, { lineage: null, serial: null, lockId: destLock.ID });
      const back = await destination.read();
      if (back === null || stateChecksum(back) !== checksum) {
        throw new StateError(`The state written to ${destination.describe()} does not read back the same (checksum ${back === null ? "none" : stateChecksum(back)}, expected ${checksum}); the migration is not complete.`, {
          hint: `The state in ${source.describe()} is unchanged. Check the destination, then run migrate again.`,
        });
      }
      io.stdout.write(
        `Migrated the state of environment "${deps.environment}" from ${source.describe()} to ${destination.describe()}: ${summary}.\n` +
          `Read back from the new backend: checksum ${checksum} matches.\n` +
          `The copy in ${source.describe()} was left unchanged; stsorg now uses the new backend. Remove the old copy once it is no longer needed.\n`,
      );
      return 0;
    }),
  );
}

async function requireState(backend: StateBackend, environment: string): Promise<StateFile> {
  const state = await backend.read();
  if (state === null) throw new StateError(noStateMessage(environment, backend), { hint: "Run stsorg apply to create it." });
  return state;
}

function noStateMessage(environment: string, backend: StateBackend): string {
  return `No state yet for environment "${environment}" (${backend.describe()}).`;
}

function notInState(address: string): StateError {
  return new StateError(`No resource ${address} in state.`, { hint: "Run `stsorg state list` to see the addresses in state." });
}

function checkPushIdentity(incoming: StateFile, current: StateFile, path: string): void {
  for (const key of ["environment", "cvr", "admin_top_uuid"] as const) {
    if (incoming[key] !== current[key]) {
      throw new StateError(`${path} is a state of ${key} ${incoming[key]}, but this environment's state has ${current[key]}; it was not pushed.`, {
        file: path,
        hint: "Each environment has its own state; push the file to the environment it belongs to.",
      });
    }
  }
}

/**
 * What `push` stores: the file as it is when it follows the current state (same lineage, newer serial).
 * With --force also another lineage or an older serial, but the stored serial then still goes up, so a
 * plan made against the replaced state can never match the pushed one.
 */
export function pushedState(incoming: StateFile, current: StateFile | null, force: boolean): StateFile {
  if (current === null) return incoming;
  if (incoming.lineage !== current.lineage) {
    if (!force) {
      throw new StateError(`Cannot push: the file has lineage ${incoming.lineage}, the state has lineage ${current.lineage}.`, {
        hint: "They are different states. If you really mean to replace it, add --force.",
      });
    }
    return { ...incoming, serial: Math.max(incoming.serial, current.serial + 1) };
  }
  if (incoming.serial < current.serial || (incoming.serial === current.serial && encodeState(incoming) !== encodeState(current))) {
    if (!force) {
      throw new StateError(`Cannot push: the file has serial ${incoming.serial}, the state is already at serial ${current.serial}.`, {
        hint: "The state changed after the file was pulled. Pull it again, or add --force to overwrite it.",
      });
    }
    return { ...incoming, serial: current.serial + 1 };
  }
  if (incoming.serial === current.serial) return current;
  return incoming;
}

function formatResource(address: string, r: StateResource | undefined, pending: StateFile["pending"]): string {
  const lines: string[] = [];
  if (r) {
    lines.push(`# ${address}:`, `${r.kind} "${r.name}"`);
    const meta: [string, string][] = [
      ["uuid", r.uuid],
      ["origin", r.origin],
      ["applied_at", r.applied_at],
      ["confirmed", String(r.confirmed)],
      ["attributes_sha256", r.attributes_sha256],
    ];
    lines.push(...aligned(meta, "  "));
    lines.push("  attributes:");
    lines.push(...aligned(attributeRows(r.attributes as unknown as Record<string, unknown>), "    "));
  }
  for (const p of pending) {
    lines.push(`# pending ${p.action} (journal entry ${p.id}, plan ${p.plan_id}, started ${p.started_at}): not settled yet`);
  }
  return lines.join("\n") + "\n";
}

function attributeRows(attrs: Record<string, unknown>): [string, string][] {
  const rows: [string, string][] = [];
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "Person" && value && typeof value === "object") {
      for (const [pk, pv] of Object.entries(value as Record<string, unknown>)) {
        rows.push([`Person.${pk}`, pk === "Cpr" || isHashedCpr(pv) ? "(sensitive value)" : JSON.stringify(pv)]);
      }
    } else {
      rows.push([key, JSON.stringify(value)]);
    }
  }
  return rows;
}

function aligned(rows: [string, string][], indent: string): string[] {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(width)} = ${v}`);
}
