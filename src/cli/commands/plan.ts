import type { Argv } from "yargs";
import { isApplicable, type Plan, type RefreshMode } from "../../model/index.js";
import { planExitCode } from "../../plan/index.js";
import { whoAmI, withLock } from "../../state/index.js";
import { useColor } from "../color.js";
import { withEnvironment, type Command } from "../command.js";
import { openContext } from "../context.js";
import { parseDuration } from "../duration.js";
import type { CliIo } from "../io.js";
import { writePlanFile } from "../planfile.js";
import { lockNotices, makePlan, parseAllowDeletes, parseTargets, REFRESH_MODES } from "../planning.js";
import { PLAN_FORMATS, renderPlan, withNewline, type PlanFormat } from "../planview.js";

/** Options shared by `plan` and `apply` (which plans first when given no plan file). */
export function withPlanOptions(y: Argv): Argv {
  return withEnvironment(y)
    .option("refresh", { choices: REFRESH_MODES, default: "hierarchy", describe: "How to read FK's actual state" })
    .option("target", { type: "string", array: true, describe: "Limit the plan to orgunit/UUID or user/UUID (repeatable)" })
    .option("allow-deletes", { type: "number", describe: "Allow up to N deletes past safety.maxDeletes" })
    .option("lock", { type: "boolean", default: true, describe: "Lock the state while running (--no-lock to skip)" })
    .option("lock-timeout", { type: "string", default: "0s", describe: "How long to wait for a held lock, e.g. 5m" });
}

export function withViewOptions(y: Argv): Argv {
  return y
    .option("format", { choices: PLAN_FORMATS, default: "human", describe: "Output: human, tree, markdown (PR comment) or json" })
    .option("summary", { type: "boolean", default: false, describe: "Counts and the first objects per action (large plans)" })
    .option("max-chars", { type: "number", describe: "Markdown: truncate by whole objects to this length (default 65000)" })
    .option("full-plan-hint", { type: "string", describe: "Markdown: where readers find the full plan when truncated" });
}

export const planCommand: Command = {
  command: "plan",
  describe: "Show how STS Organisation differs from OS2mo and what apply would do",
  builder: (y) =>
    withViewOptions(withPlanOptions(y))
      .option("out", { alias: "o", type: "string", describe: "Save the plan to FILE for `stsorg apply FILE`" })
      .option("refresh-only", { type: "boolean", default: false, describe: "Plan no writes; show drift only" })
      .option("detailed-exitcode", { type: "boolean", default: false, describe: "Exit 0 no changes, 2 changes, 1 error" })
      .example("$0 plan -e test", "Plan against the test environment")
      .example("$0 plan -e prod --out prod.plan.json --format markdown", "Save a plan and print a PR comment"),
  handler: (args, io) => runPlan(args, io),
};

async function runPlan(args: Record<string, unknown>, io: CliIo): Promise<number> {
  const lockTimeoutMs = parseDuration(String(args["lock-timeout"] ?? "0s"), "--lock-timeout");
  const targets = parseTargets(args.target);
  const allowDeletes = parseAllowDeletes(args["allow-deletes"]);
  const ctx = await openContext(String(args.environment), io, { needsOs2mo: true });
  try {
    const run = (lockId?: string) =>
      makePlan(ctx, io, {
        refresh: args.refresh as RefreshMode,
        targets,
        refreshOnly: Boolean(args["refresh-only"]),
        allowDeletes,
        ...(lockId !== undefined ? { lockId } : {}),
      });
    const outcome = args.lock === false
      ? await run()
      : await withLock(ctx.backend, { operation: "plan", environment: ctx.env.name, who: whoAmI(), lockTimeoutMs, now: () => io.now(), ...lockNotices(io) }, (lock) => run(lock.ID));
    const { plan, desired } = outcome;
    const text = renderPlan(plan, {
      format: args.format as PlanFormat,
      summary: Boolean(args.summary),
      color: useColor(io.stdout, io.env, args.color === false || Boolean(args["no-color"])),
      ...(typeof args["max-chars"] === "number" ? { maxChars: args["max-chars"] } : {}),
      ...(typeof args["full-plan-hint"] === "string" ? { fullPlanHint: args["full-plan-hint"] } : args.out ? { fullPlanHint: `run \`stsorg show ${String(args.out)}\`` } : {}),
      desired,
    });
    io.stdout.write(withNewline(text));
    if (typeof args.out === "string") {
      await writePlanFile(args.out, plan);
      io.stderr.write(savedPlanNote(plan, args.out, String(args.environment)));
    }
    return planExitCode(plan, Boolean(args["detailed-exitcode"]));
  } finally {
    await ctx.close();
  }
}

/** What `plan --out` says about the saved file: how to apply it, or why it cannot be applied as it is. */
function savedPlanNote(plan: Plan, file: string, environment: string): string {
  if (isApplicable(plan)) return `Saved the plan to ${file}. To carry it out: stsorg apply -e ${environment} ${file}\n`;
  const why = plan.options.refresh_only
    ? "it is a refresh-only plan"
    : plan.errors.length > 0
      ? `it has ${plan.errors.length} error(s); fix them in OS2mo and plan again`
      : `a safety guard refused it; check the plan, then plan again with ${plan.guards.map((g) => g.override).filter(Boolean).join(" ") || "the guard's override"} and apply that plan`;
  return `Saved the plan to ${file} for review. It cannot be applied: ${why}.\n`;
}
