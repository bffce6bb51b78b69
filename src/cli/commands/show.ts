import { useColor } from "../color.js";
import type { Command } from "../command.js";
import type { CliIo } from "../io.js";
import { readPlanFile } from "../planfile.js";
import { renderPlan, withNewline, type PlanFormat } from "../planview.js";
import { withViewOptions } from "./plan.js";

export const showCommand: Command = {
  command: "show <planfile>",
  describe: "Render a saved plan (human, tree, markdown or json)",
  builder: (y) =>
    withViewOptions(y)
      .positional("planfile", { type: "string", describe: "A plan saved by `stsorg plan --out FILE`" })
      .example("$0 show prod.plan.json --format markdown", "A PR comment from a saved plan"),
  handler: (args, io) => runShow(args, io),
};

async function runShow(args: Record<string, unknown>, io: CliIo): Promise<number> {
  const plan = await readPlanFile(String(args.planfile));
  io.stdout.write(
    withNewline(
      renderPlan(plan, {
        format: args.format as PlanFormat,
        summary: Boolean(args.summary),
        color: useColor(io.stdout, io.env, args.color === false || Boolean(args["no-color"])),
        ...(typeof args["max-chars"] === "number" ? { maxChars: args["max-chars"] } : {}),
        ...(typeof args["full-plan-hint"] === "string" ? { fullPlanHint: args["full-plan-hint"] } : {}),
      }),
    ),
  );
  return 0;
}
