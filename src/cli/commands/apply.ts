import {
  applyExitCode,
  applyPlan,
  checkPlanApplicable,
  confirmAndRecord,
  streamProgress,
  type ApplyResult,
  type FkWriter,
} from "../../apply/index.js";
import { PlanRefusedError, UsageError } from "../../errors/index.js";
import { isApplicable, type Plan, type RefreshMode } from "../../model/index.js";
import { whoAmI, withLock } from "../../state/index.js";
import type { Os2syncClient } from "../../targets/os2sync/index.js";
import { useColor } from "../color.js";
import type { Command } from "../command.js";
import { openContext, type CommandContext } from "../context.js";
import { parseDuration } from "../duration.js";
import type { CliIo } from "../io.js";
import { readPlanFile } from "../planfile.js";
import { lockNotices, makePlan, parseAllowDeletes, parseTargets } from "../planning.js";
import { renderPlan, withNewline, type PlanFormat } from "../planview.js";
import { TOOL_VERSION } from "../version.js";
import { withPlanOptions, withViewOptions } from "./plan.js";

export const applyCommand: Command = {
  command: "apply [planfile]",
  describe: "Carry out a saved plan (or plan, confirm and carry out), recording every write in the state",
  builder: (y) =>
    withViewOptions(withPlanOptions(y))
      .positional("planfile", { type: "string", describe: "A plan saved by `stsorg plan --out FILE`: applied exactly, with no prompt" })
      .option("auto-approve", { type: "boolean", default: false, describe: "Do not ask for confirmation (CI)" })
      .option("parallelism", { type: "number", default: 8, describe: "Writes in flight at most" })
      .option("wait", { type: "string", describe: "Read written objects back until FK shows them (optionally for DURATION, default 10m)" })
      .option("max-plan-age", { type: "string", default: "24h", describe: "Refuse a saved plan older than this" })
      .example("$0 apply -e prod prod.plan.json --wait", "Apply a reviewed plan and confirm every write")
      .example("$0 apply -e test", "Plan, show the plan, ask, apply"),
  handler: (args, io) => runApply(args, io),
};

/**
 * The OS2sync clients as apply's write port: reads retry on their own, writes do not (apply reads back
 * before it resends). User writes always bypass OS2sync's skip-identical cache:
 * stsorg writes only what differs, and a repair (drift) or a ShortKey-only change would otherwise be
 * dropped silently by OS2sync.
 */
function writerFor(reader: Os2syncClient, writer: Os2syncClient): FkWriter {
  return {
    getOrgUnit: (uuid) => reader.getOrgUnit(uuid),
    getUser: (uuid) => reader.getUser(uuid),
    upsertOrgUnit: (reg) => writer.upsertOrgUnit(reg),
    upsertUser: (reg) => writer.upsertUser(reg, { bypassCache: true }),
    deleteOrgUnit: (uuid) => writer.deleteOrgUnit(uuid),
    deleteUser: (uuid) => writer.deleteUser(uuid),
  };
}

async function runApply(args: Record<string, unknown>, io: CliIo): Promise<number> {
  const lockTimeoutMs = parseDuration(String(args["lock-timeout"] ?? "0s"), "--lock-timeout");
  const maxPlanAgeMs = parseDuration(String(args["max-plan-age"] ?? "24h"), "--max-plan-age");
  const waitMs = args.wait === undefined ? null : args.wait === "" || args.wait === true ? 600_000 : parseDuration(String(args.wait), "--wait");
  const parallelism = Number(args.parallelism ?? 8);
  if (!Number.isInteger(parallelism) || parallelism < 1) throw new UsageError("--parallelism must be a whole number of at least 1.");
  const planFile = typeof args.planfile === "string" ? args.planfile : undefined;
  const allowDeletes = parseAllowDeletes(args["allow-deletes"]);
  const color = useColor(io.stdout, io.env, args.color === false || Boolean(args["no-color"]));
  // A saved plan is read and checked for shape before anything else is started.
  const saved = planFile ? await readPlanFile(planFile) : undefined;
  const ctx = await openContext(String(args.environment), io, { needsOs2mo: true });
  try {
    return await withLock(
      ctx.backend,
      { operation: "apply", environment: ctx.env.name, who: whoAmI(), lockTimeoutMs, now: () => io.now(), ...lockNotices(io) },
      async (lock, lost) => {
        let plan: Plan;
        if (saved) {
          plan = saved;
          if (plan.environment.name !== ctx.env.name || plan.environment.cvr !== ctx.env.municipality.cvr) {
            throw new PlanRefusedError(`Saved plan was made for environment "${plan.environment.name}" (CVR ${plan.environment.cvr}), not "${ctx.env.name}".`, {
              file: planFile,
              hint: `Apply it with -e ${plan.environment.name}, or make a plan for this environment.`,
            });
          }
          checkPlanApplicable(plan, { state: await ctx.backend.read(), manifestSha256: ctx.env.sha256, now: io.now(), maxPlanAgeMs, ...(planFile !== undefined ? { file: planFile } : {}) });
        } else {
          const outcome = await makePlan(ctx, io, {
            refresh: args.refresh as RefreshMode,
            targets: parseTargets(args.target),
            refreshOnly: false,
            allowDeletes,
            lockId: lock.ID,
          });
          plan = outcome.plan;
          io.stdout.write(withNewline(renderPlan(plan, { format: args.format as PlanFormat, summary: Boolean(args.summary), color, desired: outcome.desired })));
          if (!isApplicable(plan)) return 1;
          if (plan.changes.length === 0) return 0;
          if (!args["auto-approve"]) {
            const approved = await confirm(io, ctx.env.name);
            if (!approved) return 1;
          }
        }
        if (plan.changes.length === 0) {
          io.stdout.write("No changes. STS Organisation matches OS2mo.\n");
          return 0;
        }
        const result = await execute(ctx, io, plan, { lockId: lock.ID, lost, parallelism });
        return await report(ctx, io, result, waitMs, lock.ID);
      },
    );
  } finally {
    await ctx.close();
  }
}

async function confirm(io: CliIo, envName: string): Promise<boolean> {
  if (!io.stdinIsTTY) {
    throw new UsageError("No terminal to ask for approval, and --auto-approve was not given.", {
      hint: "In CI, apply a reviewed plan file (`stsorg apply -e ENV plan.json`) or pass --auto-approve.",
    });
  }
  io.stderr.write(`\nDo you want to perform these actions in environment "${envName}"?\n  stsorg will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n`);
  const answer = await io.readLine("  Enter a value: ");
  if (answer?.trim() === "yes") return true;
  io.stderr.write("\nApply cancelled.\n");
  return false;
}

async function execute(ctx: CommandContext, io: CliIo, plan: Plan, o: { lockId: string; lost: AbortSignal; parallelism: number }): Promise<ApplyResult> {
  const abort = new AbortController();
  // One notice, naming why no new writes are started (the core only stops).
  o.lost.addEventListener(
    "abort",
    () => {
      if (!abort.signal.aborted) io.stderr.write("\nThe state lock was lost: no new writes are started; finishing the writes in flight...\n");
      abort.abort();
    },
    { once: true },
  );
  const removeSignal = io.onSignal((sig) => {
    if (!abort.signal.aborted) io.stderr.write(`\n${sig} received: no new writes are started; finishing the writes in flight and saving the state...\n`);
    abort.abort();
  });
  const progress = streamProgress(io.stderr);
  try {
    return await applyPlan(plan, {
      backend: ctx.backend,
      writer: writerFor(ctx.os2sync, ctx.os2syncWriter),
      lockId: o.lockId,
      parallelism: o.parallelism,
      now: () => io.now(),
      signal: abort.signal,
      progress,
      unmanagedFields: ctx.env.sync.unmanagedFields,
      toolVersion: TOOL_VERSION,
      ...(ctx.cprHashKey !== null ? { cprHashKey: ctx.cprHashKey, resolveCpr: cprResolver(ctx) } : {}),
    });
  } finally {
    removeSignal();
  }
}

/** CPR numbers are never in a plan: they are re-read from OS2mo (one bulk read) when a user is written. */
function cprResolver(ctx: CommandContext): (userUuid: string) => Promise<string | undefined> {
  let byUser: Promise<Map<string, string | undefined>> | undefined;
  return async (uuid) => {
    byUser ??= ctx.readMo().then(({ snapshot }) => {
      const desired = ctx.desired(snapshot);
      return new Map([...desired.users].map(([u, reg]) => [u, reg.Person.Cpr]));
    });
    return (await byUser).get(uuid);
  };
}

async function report(ctx: CommandContext, io: CliIo, result: ApplyResult, waitMs: number | null, lockId: string): Promise<number> {
  for (const f of result.failures) {
    io.stderr.write(`Error: ${f.action} ${f.address} "${f.name}" failed: ${f.message}${f.outcomeUnknown ? " (outcome unknown; the next run reads it back)" : ""}\n`);
  }
  for (const s of result.skipped) io.stderr.write(`Skipped: ${s.action} ${s.address} "${s.name}" (depends on ${s.blockedBy})\n`);
  if (result.interrupted) {
    io.stderr.write(`Interrupted: ${result.notStarted.length} changes were not started. The state records everything that was written; run plan again.\n`);
  }
  let unconfirmed = 0;
  if (waitMs !== null && result.writes.length > 0) {
    io.stderr.write(`Reading ${result.writes.length} written objects back from FK (up to ${Math.round(waitMs / 1000)} s)...\n`);
    const confirmed = await confirmAndRecord(ctx.backend, result.writes, ctx.os2sync, {
      timeoutMs: waitMs,
      now: () => io.now(),
      unmanagedFields: ctx.env.sync.unmanagedFields,
      lockId,
      ...(ctx.cprHashKey !== null ? { cprHashKey: ctx.cprHashKey } : {}),
    });
    unconfirmed = confirmed.unconfirmed.length;
    io.stderr.write(`Confirmed ${confirmed.confirmed.length} of ${result.writes.length} writes in FK.\n`);
    for (const u of confirmed.unconfirmed) {
      io.stderr.write(`Not confirmed: ${u.write.action} ${u.write.address} "${u.write.name}": ${u.reason}\n`);
    }
    if (unconfirmed > 0) {
      io.stderr.write("OS2sync accepted these writes but FK does not show them: OS2sync's queue may have rejected them (see OS2sync's failure log).\n");
    }
  }
  io.stdout.write(`\n${result.summaryLine()}\n`);
  const code = applyExitCode(result);
  return code !== 0 ? code : unconfirmed > 0 ? 1 : 0;
}
