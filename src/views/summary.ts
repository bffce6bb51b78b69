import type { Plan } from "../model/index.js";
import { isApplicable } from "../model/index.js";
import { diagnostics } from "./diagnostics.js";
import { ACTION_ORDER, NO_CHANGES, SYMBOL, actionColour, objectLabel, palette, planLine, plural, refreshLine } from "./format.js";

export interface SummaryViewOptions {
  color: boolean;
  /** How many objects to list per action (and errors/warnings per kind). Default 10. */
  limit?: number;
}

const HEADING = { create: "To create", update: "To update in-place", delete: "To destroy", adopt: "To adopt" } as const;
const COLUMN = { create: "add", update: "change", delete: "destroy", adopt: "adopt" } as const;

/** Counts per action and kind plus the first objects of each action: for plans of thousands of objects. */
export function renderSummary(plan: Plan, opts: SummaryViewOptions): string {
  const c = palette(opts.color);
  const limit = opts.limit ?? 10;
  const s = plan.summary;
  const out: string[] = [refreshLine(plan), ""];
  out.push(`Plan summary for environment "${plan.environment.name}" (stage ${plan.environment.stage})`, "");

  const header = ["", ...ACTION_ORDER.map((a) => COLUMN[a])];
  const rows: string[][] = [
    header,
    ["orgunit", ...ACTION_ORDER.map((a) => String(s.orgunit[a]))],
    ["user", ...ACTION_ORDER.map((a) => String(s.user[a]))],
    ["total", ...ACTION_ORDER.map((a) => String(s[a]))],
  ];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) {
    out.push(("  " + r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]! + 2))).join("")).trimEnd());
  }
  out.push("");
  out.push(
    s.drift > 0 ? `${plural(s.drift, "object")} changed outside of stsorg (drift).` : "No drift: FK holds what stsorg last applied.",
  );
  if (plan.options.targets.length > 0) out.push(`Limited to ${plural(plan.options.targets.length, "target")}.`);

  for (const a of ACTION_ORDER) {
    const list = plan.changes.filter((ch) => ch.action === a);
    if (list.length === 0) continue;
    out.push("", `${HEADING[a]} (${list.length}${list.length > limit ? `; first ${limit}` : ""}):`);
    for (const ch of list.slice(0, limit)) {
      const fields = a === "update" ? `: ${(ch.fields ?? []).map((f) => f.field).join(", ")}` : "";
      out.push(`  ${actionColour(c, a)(SYMBOL[a])} ${objectLabel(ch.kind, ch.name, ch.uuid)}${fields}`);
    }
    if (list.length > limit) out.push(`  … and ${list.length - limit} more`);
  }
  if (s.drift > 0) {
    out.push("", `Changed outside of stsorg (${s.drift}${s.drift > limit ? `; first ${limit}` : ""}):`);
    for (const d of plan.drift.slice(0, limit)) {
      const what = d.type === "deleted" ? "deleted" : d.fields.map((f) => f.field).join(", ");
      out.push(`  ${c.yellow("!")} ${objectLabel(d.kind, d.name, d.uuid)}: ${what}`);
    }
    if (plan.drift.length > limit) out.push(`  … and ${plan.drift.length - limit} more`);
  }

  for (const d of diagnostics(plan, c, limit)) out.push("", ...d);
  out.push("");
  if (plan.options.refresh_only) out.push(c.bold("Refresh-only plan: FK will not be changed."));
  else out.push(c.bold(plan.changes.length === 0 ? NO_CHANGES : planLine(plan)));
  if (!plan.options.refresh_only && plan.changes.length > 0 && !isApplicable(plan)) {
    out.push(c.red.bold("This plan cannot be applied until the errors above are resolved."));
  }
  return out.join("\n") + "\n";
}
