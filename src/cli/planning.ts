import { formatSettleReport, readSettled, type SettleReport } from "../apply/index.js";
import { UsageError } from "../errors/index.js";
import { parseAddress, type ActualState, type DesiredState, type Plan, type RefreshMode, type ResourceAddress, type StateFile } from "../model/index.js";
import { computePlan } from "../plan/index.js";
import type { ReadMoStats } from "../sources/os2mo/index.js";
import type { WithLockOptions } from "../state/index.js";
import type { CommandContext } from "./context.js";
import type { CliIo } from "./io.js";
import { withViewContext } from "./planview.js";
import { TOOL_VERSION } from "./version.js";

export interface PlanRequest {
  refresh: RefreshMode;
  targets: ResourceAddress[];
  refreshOnly: boolean;
  allowDeletes: number | null;
  lockId?: string;
}

export interface PlanOutcome {
  plan: Plan;
  desired: DesiredState;
  settled: SettleReport | null;
  moStats: ReadMoStats;
}

export const REFRESH_MODES: RefreshMode[] = ["hierarchy", "full", "none", "fk"];

/** What plan and apply say while they wait for the state lock, and when they take over an expired one. */
export function lockNotices(io: CliIo): Pick<WithLockOptions, "onWait" | "onTakeOver"> {
  return {
    onWait: (h) => io.stderr.write(`Waiting for the state lock held by ${h.Who} (${h.Operation})...\n`),
    onTakeOver: (p) => io.stderr.write(`Took over the state lock of ${p.Who} (${p.Operation}, ID ${p.ID}), which had expired at ${p.Expires}.\n`),
  };
}

/** `--allow-deletes N` (null when not given): a whole number of deletes, 0 or more. */
export function parseAllowDeletes(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new UsageError("--allow-deletes must be a whole number of deletes (0 or more).", {
      hint: "Give the number of deletes the plan's delete guard names, e.g. --allow-deletes 51.",
    });
  }
  return value;
}

/** `--target` values as resource addresses; a malformed one is a usage error naming it. */
export function parseTargets(values: unknown): ResourceAddress[] {
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  return list.map((v) => {
    const parsed = parseAddress(String(v));
    if (!parsed) {
      throw new UsageError(`--target ${String(v)}: not a resource address.`, { hint: "Write it as orgunit/UUID or user/UUID." });
    }
    return `${parsed.kind}/${parsed.uuid}` as ResourceAddress;
  });
}

/**
 * The plan pipeline: settle a crashed run's journal (under the caller's lock), then read OS2mo and
 * refresh FK concurrently, map, and compute the plan. Everything but the last two steps is I/O.
 */
export async function makePlan(ctx: CommandContext, io: CliIo, req: PlanRequest): Promise<PlanOutcome> {
  const { env } = ctx;
  // What the refresh needs (e.g. the certificate for --refresh fk) is checked before anything is read.
  await ctx.prepareRefresh(req.refresh);
  const { state, report: settled } = await readSettled(ctx.backend, ctx.os2sync, {
    now: () => io.now(),
    unmanagedFields: env.sync.unmanagedFields,
    ...(ctx.cprHashKey !== null ? { cprHashKey: ctx.cprHashKey } : {}),
    ...(req.lockId !== undefined ? { lockId: req.lockId } : {}),
  });
  if (settled) io.stderr.write(formatSettleReport(settled) + "\n");
  const { desired, actual, moStats } = await readBothSides(ctx, req.refresh, state);
  const computed = computePlan({
    desired,
    actual,
    state,
    policy: {
      unmanagedFields: env.sync.unmanagedFields,
      prune: env.safety.prune,
      protectedUnits: env.safety.protectedUnits,
      adminTopUuid: env.sts.adminTopUuid,
      maxDeletes: env.safety.maxDeletes,
      allowDeletes: req.allowDeletes,
      targets: req.targets,
      refreshOnly: req.refreshOnly,
      cprHashKey: ctx.cprHashKey,
    },
    meta: {
      toolVersion: TOOL_VERSION,
      createdAt: io.now().toISOString(),
      environment: { name: env.name, stage: env.stage, cvr: env.municipality.cvr, admin_top_uuid: env.sts.adminTopUuid },
      manifestSha256: env.sha256,
    },
  });
  return { plan: withViewContext(computed, desired), desired, settled, moStats };
}

/**
 * OS2mo mapped to the desired FK state, and FK as it is. The OS2mo snapshot is the largest thing a plan
 * reads; it is not referenced once mapped, so its memory can be reclaimed before the plan is computed.
 */
async function readBothSides(
  ctx: CommandContext,
  refresh: RefreshMode,
  state: StateFile | null,
): Promise<{ desired: DesiredState; actual: ActualState; moStats: ReadMoStats }> {
  // When one side fails the plan has failed: the other stops instead of reading on (a hierarchy job can
  // take minutes) and keeping the command from ending.
  const stop = new AbortController();
  const orStop = <T>(p: Promise<T>): Promise<T> =>
    p.catch((e: unknown) => {
      stop.abort(e);
      throw e;
    });
  const [mo, actual] = await Promise.all([orStop(ctx.readMo(stop.signal)), orStop(ctx.refresh(refresh, state, stop.signal))]);
  return { desired: ctx.desired(mo.snapshot), actual, moStats: mo.stats };
}
