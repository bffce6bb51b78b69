import type { ChalkInstance } from "chalk";
import type { ConsistencyIssue, GuardResult, Plan } from "../model/index.js";
import { quote } from "./format.js";

/** Warnings, then errors, then guard refusals, each as a block of lines (Terraform's diagnostics style). */
export function diagnostics(plan: Plan, c: ChalkInstance, limit = Infinity): string[][] {
  const blocks: string[][] = [];
  const take = <T>(list: T[], render: (x: T) => string[], what: string): void => {
    for (const x of list.slice(0, limit)) blocks.push(render(x));
    if (list.length > limit) blocks.push([`… and ${list.length - limit} more ${what} (see the full plan).`]);
  };
  take(plan.warnings, (w) => issueBlock(w, c), "warnings");
  take(plan.errors, (e) => issueBlock(e, c), "errors");
  take(plan.guards, (g) => guardBlock(g, c), "guard refusals");
  return blocks;
}

export function issueBlock(issue: ConsistencyIssue, c: ChalkInstance): string[] {
  const head = issue.severity === "error" ? c.red.bold("Error:") : c.yellow.bold("Warning:");
  const lines = [`${head} ${c.bold(issue.message)} [${issue.code}]`];
  if (issue.objects.length > 0) {
    lines.push("", `  In OS2mo: ${issue.objects.map((o) => `${o.kind}${o.name ? ` ${quote(o.name)}` : ""} (${o.uuid})`).join(", ")}`);
  }
  if (issue.hint) lines.push("", `  ${issue.hint}`);
  return lines;
}

export function guardBlock(g: GuardResult, c: ChalkInstance): string[] {
  const title = g.guard === "max-deletes" ? "Too many deletes" : "Protected unit";
  const lines = [`${c.red.bold("Error:")} ${c.bold(title)} [${g.guard}]`, "", `  ${g.message}`];
  if (g.override) lines.push("", `  To override: ${g.override}`);
  return lines;
}
