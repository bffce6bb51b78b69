import type { Action, Change, ConsistencyIssue, Drift, FieldChange, FkState, GuardResult, Plan } from "../model/index.js";
import { isApplicable } from "../model/index.js";
import {
  ACTION_ORDER,
  NO_CHANGES,
  SENSITIVE,
  SYMBOL,
  attributePairs,
  formatScalar,
  isListField,
  listDelta,
  listItems,
  objectLabel,
  planLine,
  plural,
  refreshLine,
  unitNames,
} from "./format.js";

export interface MarkdownViewOptions {
  /** Upper bound on the comment's length in characters. Default 65000 (GitHub's limit is 65,536). */
  maxChars?: number;
  /** Where the full plan is, for the truncation note: e.g. "run `stsorg show plan.json`" or a CI artifact URL. */
  fullPlanHint?: string;
  /** The desired state, to name the units positions point at. */
  desired?: FkState;
}

export const DEFAULT_MAX_CHARS = 65000;

type SectionKey = "guards" | "errors" | "warnings" | "drift" | Action;

interface Section {
  key: SectionKey;
  items: string[];
}

const TITLE: Record<Action, string> = { create: "Create", update: "Update in-place", delete: "Destroy", adopt: "Adopt" };
const NOUN: Record<SectionKey, [string, string]> = {
  guards: ["guard refusal", "guard refusals"],
  errors: ["error", "errors"],
  warnings: ["warning", "warnings"],
  drift: ["drifted object", "drifted objects"],
  create: ["create", "creates"],
  update: ["update", "updates"],
  delete: ["destroy", "destroys"],
  adopt: ["adoption", "adoptions"],
};
/** What a reviewer must see first when space runs out. */
const PRIORITY: SectionKey[] = ["guards", "errors", "warnings", "delete", "drift", "update", "create", "adopt"];

/**
 * The plan as a pull/merge request comment: header, counts table, errors and drift, then one collapsed
 * `<details>` per action holding a fenced `diff` block. Kept under `maxChars` by leaving out whole objects
 * (deletes and errors are kept longest) with a note saying how many and where the full plan is.
 */
export function renderMarkdown(plan: Plan, opts: MarkdownViewOptions = {}): string {
  const maxChars = opts.maxChars ?? DEFAULT_MAX_CHARS;
  const names = unitNames(plan, opts.desired);
  const sections: Section[] = [
    { key: "guards", items: plan.guards.map(guardItem) },
    { key: "errors", items: plan.errors.map(issueItem) },
    { key: "warnings", items: plan.warnings.map(issueItem) },
    { key: "drift", items: plan.drift.map((d) => driftItem(d, names)) },
    ...ACTION_ORDER.map((a) => ({ key: a, items: plan.changes.filter((c) => c.action === a).map((c) => changeItem(c, names)) })),
  ];
  const shown = new Map<SectionKey, number>(sections.map((s) => [s.key, s.items.length]));
  const itemChars = sections.reduce((n, s) => s.items.reduce((m, i) => m + i.length, n), 0);
  let text = itemChars <= maxChars ? render(plan, sections, shown, opts) : "";
  if (text !== "" && text.length <= maxChars) return text;

  // Greedy by priority: each section keeps a prefix of its objects while they fit.
  for (const s of sections) shown.set(s.key, 0);
  let budget = maxChars - render(plan, sections, shown, opts).length;
  for (const key of PRIORITY) {
    const s = sections.find((x) => x.key === key)!;
    let n = 0;
    for (const item of s.items) {
      const cost = item.length + 2;
      if (cost > budget) break;
      budget -= cost;
      n++;
    }
    shown.set(key, n);
  }
  text = render(plan, sections, shown, opts);
  // The estimate ignores small differences (a section's wrapper appearing, longer numbers); trim until it fits.
  while (text.length > maxChars) {
    const key = [...PRIORITY].reverse().find((k) => (shown.get(k) ?? 0) > 0);
    if (key === undefined) break;
    shown.set(key, shown.get(key)! - 1);
    text = render(plan, sections, shown, opts);
  }
  return text;
}

function render(plan: Plan, sections: Section[], shown: Map<SectionKey, number>, opts: MarkdownViewOptions): string {
  const out: string[] = [];
  const env = plan.environment;
  const s = plan.summary;
  out.push(`### stsorg plan for \`${md(env.name)}\` (stage \`${md(env.stage)}\`)`, "");
  if (plan.options.refresh_only) {
    out.push(
      s.drift === 0
        ? "**Refresh-only plan: no drift.** STS Organisation still matches what stsorg last applied."
        : `**Refresh-only plan: ${plural(s.drift, "object")} changed outside of stsorg.** FK will not be changed.`,
    );
  } else {
    out.push(`**${plan.changes.length === 0 ? NO_CHANGES : planLine(plan)}**`);
  }
  if (!plan.options.refresh_only && plan.changes.length > 0 && !isApplicable(plan)) {
    out.push("", "**This plan cannot be applied until the errors below are resolved.**");
  }
  out.push("");
  out.push("| | add | change | destroy | adopt |", "|:--|--:|--:|--:|--:|");
  out.push(`| orgunit | ${ACTION_ORDER.map((a) => s.orgunit[a]).join(" | ")} |`);
  out.push(`| user | ${ACTION_ORDER.map((a) => s.user[a]).join(" | ")} |`);
  out.push(`| **total** | ${ACTION_ORDER.map((a) => `**${s[a]}**`).join(" | ")} |`);
  out.push("", md(refreshLine(plan)));
  if (plan.options.targets.length > 0) {
    out.push("", `Limited to: ${plan.options.targets.map((t) => `\`${t}\``).join(", ")}`);
  }

  let omitted = 0;
  const omittedBy: string[] = [];
  for (const sec of sections) {
    const n = shown.get(sec.key) ?? 0;
    const total = sec.items.length;
    if (total === 0) continue;
    const left = total - n;
    if (left > 0) {
      omitted += left;
      omittedBy.push(plural(left, NOUN[sec.key][0], NOUN[sec.key][1]));
    }
    const note = left > 0 ? `_${left} of ${total} ${NOUN[sec.key][1]} left out here; see the full plan._` : "";
    const items = sec.items.slice(0, n);
    if (sec.key === "guards" || sec.key === "errors" || sec.key === "warnings") {
      const title = sec.key === "guards" ? "Refused" : sec.key === "errors" ? "Errors" : "Warnings";
      out.push("", `#### ${title} (${total})`, "");
      out.push(...items);
      if (note) out.push("", note);
      continue;
    }
    const summary =
      sec.key === "drift" ? `Drift: ${plural(total, "object")} changed outside of stsorg` : `${TITLE[sec.key]}: ${plural(total, "object")}`;
    out.push("", `<details><summary>${html(summary)}</summary>`);
    if (items.length > 0) {
      const body = items.join("\n\n");
      const fence = fenceFor(body);
      out.push("", fence + "diff", body, fence);
    }
    if (note) out.push("", note);
    out.push("", "</details>");
  }
  if (omitted > 0) {
    const where = opts.fullPlanHint ? ` The full plan: ${opts.fullPlanHint}.` : "";
    out.push(
      "",
      `> **Output truncated:** ${plural(omitted, "entry", "entries")} left out (${omittedBy.join(", ")}) to stay under ${opts.maxChars ?? DEFAULT_MAX_CHARS} characters.${where}`,
    );
  }
  out.push("", `<sub>plan ${plan.plan_id.slice(0, 12)} · stsorg ${md(plan.tool_version)}</sub>`);
  return out.join("\n") + "\n";
}

function changeItem(ch: Change, names: Map<string, string>): string {
  const head = `${SYMBOL[ch.action]} ${objectLabel(ch.kind, ch.name, ch.uuid)}`;
  const lines = [head];
  if (ch.action === "create" || ch.action === "delete") {
    const sym = ch.action === "create" ? "+" : "-";
    const attrs = ch.action === "create" ? ch.after : ch.before;
    for (const [f, v] of attrs ? attributePairs(ch.kind, attrs) : []) {
      if (isListField(f, v)) for (const item of listItems(f, v, names)) lines.push(`${sym}     ${f}: ${item}`);
      else lines.push(`${sym}     ${f} = ${f === "Person.Cpr" ? SENSITIVE : formatScalar(v)}`);
    }
  } else if (ch.action === "update") {
    lines.push(...fieldLines(ch.fields ?? [], names, "", ""));
  }
  return lines.join("\n");
}

function driftItem(d: Drift, names: Map<string, string>): string {
  if (d.type === "deleted") return `- ${objectLabel(d.kind, d.name, d.uuid)}: deleted from FK`;
  return [`~ ${objectLabel(d.kind, d.name, d.uuid)}`, ...fieldLines(d.fields, names, "   (last applied)", "   (in FK now)")].join("\n");
}

function fieldLines(fields: FieldChange[], names: Map<string, string>, wasNote: string, nowNote: string): string[] {
  const out: string[] = [];
  for (const f of fields) {
    const show = (v: unknown): string => (f.sensitive ? SENSITIVE : formatScalar(v));
    const unobserved = f.unobserved ? "   (not read from FK; from state)" : "";
    if (isListField(f.field, f.before ?? f.after)) {
      const delta = listDelta(f.field, f.before, f.after, names);
      for (const r of delta.removed) out.push(`-     ${f.field}: ${r}`);
      for (const a of delta.added) out.push(`+     ${f.field}: ${a}`);
    } else {
      if (f.before !== undefined) out.push(`-     ${f.field} = ${show(f.before)}${wasNote}${unobserved}`);
      if (f.after !== undefined) out.push(`+     ${f.field} = ${show(f.after)}${nowNote}`);
    }
  }
  return out;
}

function issueItem(i: ConsistencyIssue): string {
  const objects = i.objects.map((o) => `${o.kind}${o.name ? ` "${o.name}"` : ""} \`${o.uuid}\``).join(", ");
  return `- **${md(i.code)}**: ${md(i.message)}${objects ? ` (OS2mo: ${md(objects, true)})` : ""}${i.hint ? ` _${md(i.hint)}_` : ""}`;
}

function guardItem(g: GuardResult): string {
  return `- **${md(g.guard)}**: ${md(g.message)}${g.override ? ` To override: \`${g.override}\`.` : ""}`;
}

/** Escapes text for Markdown prose; with `keepCode`, backtick spans are left as they are. */
function md(s: string, keepCode = false): string {
  const re = keepCode ? /[\\*_[\]<>&|#~]/g : /[\\*_[\]<>&|#~`]/g;
  return s.replace(re, (ch) => (ch === "<" ? "&lt;" : ch === ">" ? "&gt;" : ch === "&" ? "&amp;" : `\\${ch}`));
}

function html(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A code fence longer than any backtick run inside, so object names cannot end the block. */
function fenceFor(body: string): string {
  let longest = 0;
  for (const m of body.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return "`".repeat(Math.max(3, longest + 1));
}
