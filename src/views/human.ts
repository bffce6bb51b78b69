import type { ChalkInstance } from "chalk";
import type { Change, Drift, FieldChange, FkState, Plan } from "../model/index.js";
import { diagnostics } from "./diagnostics.js";
import { isApplicable } from "../model/index.js";
import {
  ACTION_ORDER,
  LEGEND,
  NO_CHANGES,
  SENSITIVE,
  SYMBOL,
  WILL_BE,
  actionColour,
  attributePairs,
  formatScalar,
  isListField,
  isLongText,
  listDelta,
  listItems,
  objectLabel,
  palette,
  planLine,
  plural,
  quote,
  refreshLine,
  unchangedCount,
  unitNames,
  wordDiff,
} from "./format.js";

export interface HumanViewOptions {
  /** ANSI colour; the caller decides (TTY, --no-color, NO_COLOR, FORCE_COLOR). */
  color: boolean;
  /** The desired state, to name units that positions point at when the plan does not name them. */
  desired?: FkState;
}

const RULE = "─".repeat(77);

/** The plan as people read it in a terminal, Terraform-style. */
export function renderHuman(plan: Plan, opts: HumanViewOptions): string {
  const c = palette(opts.color);
  const names = unitNames(plan, opts.desired);
  const out: string[] = [];

  out.push(refreshLine(plan), "");

  if (plan.drift.length > 0) {
    out.push(c.bold("Objects have changed outside of stsorg"), "");
    out.push('stsorg detected the following changes made outside of stsorg since the last "stsorg apply":', "");
    for (const d of plan.drift) out.push(...driftBlock(d, c, names), "");
    out.push(
      plan.options.refresh_only
        ? "This is a refresh-only plan: stsorg will not undo these changes."
        : "Unless you have made equivalent changes to OS2mo, applying this plan will undo them.",
    );
    out.push("", RULE, "");
  }

  if (plan.options.refresh_only) {
    out.push(
      plan.drift.length === 0
        ? c.bold("No changes.") + " STS Organisation still matches what stsorg last applied."
        : c.bold(`Refresh-only plan: ${plural(plan.drift.length, "object")} changed outside of stsorg; FK will not be changed.`),
    );
  } else if (plan.changes.length === 0) {
    out.push(c.bold(NO_CHANGES));
  } else {
    const present = ACTION_ORDER.filter((a) => plan.summary[a] > 0);
    out.push("Resource actions are indicated with the following symbols:");
    for (const a of present) out.push(`  ${actionColour(c, a)(SYMBOL[a])} ${LEGEND[a]}`);
    out.push("", "stsorg will perform the following actions:", "");
    for (const ch of plan.changes) out.push(...changeBlock(ch, c, names), "");
    out.push(c.bold(planLine(plan)));
  }

  for (const d of diagnostics(plan, c)) out.push("", ...d);
  if (!plan.options.refresh_only && plan.changes.length > 0 && !isApplicable(plan)) {
    out.push("", c.red.bold("This plan cannot be applied until the errors above are resolved."));
  }
  return out.join("\n") + "\n";
}

function changeBlock(ch: Change, c: ChalkInstance, names: Map<string, string>): string[] {
  const colour = actionColour(c, ch.action);
  const sym = colour(SYMBOL[ch.action]);
  const lines = [c.bold(`  # ${objectLabel(ch.kind, ch.name, ch.uuid)} ${WILL_BE[ch.action]}`)];
  if (ch.action === "delete" || ch.action === "adopt" || (ch.action === "create" && ch.reason?.includes("re-created"))) {
    if (ch.reason) lines.push(`  # (${ch.reason})`);
  }
  lines.push(`  ${sym} ${ch.kind} ${quote(ch.name)} {`);
  if (ch.action === "create" || ch.action === "delete") {
    const attrs = ch.action === "create" ? ch.after : ch.before;
    if (attrs) lines.push(...attributeLines(ch.action === "create" ? "+" : "-", attributePairs(ch.kind, attrs), c, names));
  } else if (ch.action === "update") {
    lines.push(...fieldChangeLines(ch.fields ?? [], c, names));
    const hidden = unchangedCount(ch);
    if (hidden > 0) lines.push(c.dim(`        # (${plural(hidden, "unchanged attribute")} hidden)`));
    if (ch.unobserved && ch.unobserved.length > 0) {
      lines.push(c.dim(`        # (not read from FK in this refresh: ${ch.unobserved.join(", ")})`));
    }
  } else {
    const n = unchangedCount(ch);
    lines.push(c.dim(`        # (${plural(n, "matching attribute")} hidden)`));
    if (ch.unobserved && ch.unobserved.length > 0) {
      lines.push(c.dim(`        # (not read from FK in this refresh; apply reads them back and writes the object only if they differ: ${ch.unobserved.join(", ")})`));
    }
  }
  lines.push("    }");
  return lines;
}

function driftBlock(d: Drift, c: ChalkInstance, names: Map<string, string>): string[] {
  if (d.type === "deleted") {
    return [c.bold(`  # ${objectLabel(d.kind, d.name, d.uuid)} has been deleted`)];
  }
  return [
    c.bold(`  # ${objectLabel(d.kind, d.name, d.uuid)} has changed`),
    `  ${c.yellow("~")} ${d.kind} ${quote(d.name)} {`,
    ...fieldChangeLines(d.fields, c, names),
    "    }",
  ];
}

function attributeLines(
  symbol: "+" | "-",
  pairs: [string, unknown][],
  c: ChalkInstance,
  names: Map<string, string>,
): string[] {
  const colour = symbol === "+" ? c.green : c.red;
  const width = Math.max(0, ...pairs.map(([f]) => f.length));
  const out: string[] = [];
  for (const [field, value] of pairs) {
    if (isListField(field as never, value)) {
      out.push(`      ${colour(symbol)} ${field.padEnd(width)} = [`);
      for (const item of listItems(field as never, value, names)) out.push(`          ${colour(symbol)} ${item},`);
      out.push("        ]");
    } else {
      const shown = field === "Person.Cpr" ? SENSITIVE : formatScalar(value);
      out.push(`      ${colour(symbol)} ${field.padEnd(width)} = ${shown}`);
    }
  }
  return out;
}

/** Field changes of an update or a drift: scalars as `before -> after`, lists as added/removed elements. */
export function fieldChangeLines(fields: FieldChange[], c: ChalkInstance, names: Map<string, string>): string[] {
  const scalar = fields.filter((f) => !isListField(f.field, f.before ?? f.after) && !isLongText(f));
  const width = Math.max(0, ...scalar.map((f) => f.field.length + 1));
  const out: string[] = [];
  for (const f of fields) {
    const note = f.unobserved ? c.dim("  # not read from FK; old value from state") : "";
    const show = (v: unknown): string => (f.sensitive ? SENSITIVE : formatScalar(v));
    if (isListField(f.field, f.before ?? f.after)) {
      const delta = listDelta(f.field, f.before, f.after, names);
      out.push(`      ${c.yellow("~")} ${f.field}:${note}`);
      for (const a of delta.added) out.push(`          ${c.green("+")} ${a}`);
      for (const r of delta.removed) out.push(`          ${c.red("-")} ${r}`);
      if (delta.kept > 0) out.push(c.dim(`            # (${plural(delta.kept, "unchanged element")} hidden)`));
    } else if (f.before === undefined) {
      out.push(`      ${c.green("+")} ${`${f.field}`.padEnd(width - 1)} = ${show(f.after)}${note}`);
    } else if (f.after === undefined) {
      out.push(`      ${c.red("-")} ${`${f.field}`.padEnd(width - 1)} = ${show(f.before)}${note}`);
    } else if (!f.sensitive && isLongText(f)) {
      out.push(`      ${c.yellow("~")} ${f.field}:${note}`);
      out.push(`          ${wordDiff(f.before as string, f.after as string, c)}`);
    } else {
      out.push(`      ${c.yellow("~")} ${`${f.field}:`.padEnd(width)} ${show(f.before)} -> ${show(f.after)}${note}`);
    }
  }
  return out;
}
