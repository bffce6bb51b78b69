import { readFile } from "node:fs/promises";
import { PlanRefusedError, UsageError } from "../errors/index.js";
import { schemaErrors, schemaValidator } from "../jsonschema/index.js";
import { PLAN_FORMAT_VERSION, planIdOf, type Plan } from "../model/index.js";
import { renderJson } from "../views/index.js";
import { writeFileAtomic } from "./fsutil.js";

/** Writes a plan file (`plan --out`): the JSON view, schema-valid, no secrets and no CPR in clear. */
export async function writePlanFile(path: string, plan: Plan): Promise<void> {
  await writeFileAtomic(path, renderJson(plan));
}

/** Reads and validates a saved plan. A file that is not a plan of this format is refused plainly. */
export async function readPlanFile(path: string): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === "ENOENT" ? "plan file not found" : code === "EISDIR" ? "plan file is a directory" : `plan file cannot be read (${code ?? "error"})`, {
      file: path,
      hint: "Give the file written by `stsorg plan --out FILE`.",
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new PlanRefusedError("this is not a plan file (not JSON).", { file: path, hint: "Give the file written by `stsorg plan --out FILE`." });
  }
  const version = (data as { format_version?: unknown } | null)?.format_version;
  if (data !== null && typeof data === "object" && "lineage" in data && "resources" in data) {
    throw new PlanRefusedError("this is a state file, not a plan file.", { file: path, hint: "Give the file written by `stsorg plan --out FILE`; `stsorg state list` shows the state." });
  }
  if (version === undefined) {
    throw new PlanRefusedError("this is not a plan file (it has no format_version).", { file: path, hint: "Give the file written by `stsorg plan --out FILE`." });
  }
  if (version !== PLAN_FORMAT_VERSION) {
    throw new PlanRefusedError(`plan file has format_version ${JSON.stringify(version)}; this stsorg reads ${PLAN_FORMAT_VERSION}.`, {
      file: path,
      hint: "Make the plan again with this version of stsorg.",
    });
  }
  const validate = schemaValidator("plan");
  if (!validate(data)) {
    throw new PlanRefusedError(`plan file does not match the plan format: ${schemaErrors(validate).join("; ")}`, {
      file: path,
      hint: "The file was changed or damaged after it was written. Make the plan again.",
    });
  }
  const plan = data as Plan;
  // apply carries out what the file says; what was reviewed is what the plan command wrote. Any edit of
  // what the plan does (its changes, guards, state serial, options) changes its id.
  if (planIdOf(plan) !== plan.plan_id) {
    throw new PlanRefusedError("plan file was changed after it was made: its content does not match its plan_id.", {
      file: path,
      hint: "stsorg applies a saved plan only as `stsorg plan --out` wrote it. Make the plan again and review that one.",
    });
  }
  return plan;
}
