import { Chalk, type ChalkInstance } from "chalk";
import { diffWords } from "diff";
import type {
  Action,
  Attributes,
  Change,
  FieldChange,
  FieldName,
  FkState,
  ObjectKind,
  OrgUnitRegistration,
  Plan,
  Position,
  UserRegistration,
} from "../model/index.js";
import { ORG_UNIT_DIFF_FIELDS, USER_DIFF_FIELDS, comparePositions } from "../model/index.js";

/** Shared pieces of the text views: symbols, value formatting, unit names for positions. */

export const SYMBOL: Record<Action, string> = { create: "+", update: "~", delete: "-", adopt: "=" };
export const ACTION_ORDER: Action[] = ["create", "update", "delete", "adopt"];
export const LEGEND: Record<Action, string> = {
  create: "create",
  update: "update in-place",
  delete: "destroy",
  adopt: "adopt (record in state, no write)",
};
export const WILL_BE: Record<Action, string> = {
  create: "will be created",
  update: "will be updated in-place",
  delete: "will be destroyed",
  adopt: "will be adopted",
};

export const SENSITIVE = "(sensitive value)";
/** Text longer than this is shown as a word diff rather than as two whole values. */
export const LONG_TEXT = 60;

/** Colour is decided by the caller (TTY, --no-color, NO_COLOR, FORCE_COLOR), never here. */
export function palette(color: boolean): ChalkInstance {
  return new Chalk({ level: color ? 1 : 0 });
}

export function actionColour(c: ChalkInstance, action: Action): (s: string) => string {
  switch (action) {
    case "create":
      return c.green;
    case "update":
      return c.yellow;
    case "delete":
      return c.red;
    case "adopt":
      return c.cyan;
  }
}

/** Unit names by uuid, for showing positions and tree nodes: from the plan itself, then the desired state. */
export function unitNames(plan: Plan, desired?: FkState): Map<string, string> {
  const names = new Map<string, string>();
  if (desired) for (const [uuid, u] of desired.orgUnits) names.set(uuid, u.Name);
  for (const c of plan.changes) {
    if (c.kind !== "orgunit") continue;
    if (!names.has(c.uuid)) names.set(c.uuid, c.name);
  }
  for (const d of plan.drift) if (d.kind === "orgunit" && !names.has(d.uuid)) names.set(d.uuid, d.name);
  return names;
}

export function quote(s: string): string {
  return JSON.stringify(s);
}

export function formatScalar(value: unknown): string {
  if (value === undefined || value === null) return "null";
  if (typeof value === "string") return quote(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

export function formatPosition(p: Position, names: Map<string, string>): string {
  const unit = names.get(p.OrgUnitUuid);
  const where = unit === undefined ? `orgunit ${p.OrgUnitUuid}` : `${quote(unit)} (${p.OrgUnitUuid})`;
  let period = "";
  if (p.StartDate && p.StopDate) period = `, ${p.StartDate} to ${p.StopDate}`;
  else if (p.StartDate) period = `, from ${p.StartDate}`;
  else if (p.StopDate) period = `, until ${p.StopDate}`;
  return `${quote(p.Name)} in ${where}${period}`;
}

/** Elements of a list field, formatted one per line. */
export function listItems(field: FieldName, value: unknown, names: Map<string, string>): string[] {
  if (!Array.isArray(value)) return [];
  if (field === "Positions") return [...(value as Position[])].sort(comparePositions).map((p) => formatPosition(p, names));
  return [...new Set(value.map((v) => formatScalar(v)))].sort();
}

export function isListField(field: FieldName, value: unknown): boolean {
  return Array.isArray(value) || field === "Positions" || field === "Tasks" || field === "ItSystems" ||
    field === "ContactForTasks" || field === "ContactPlaces";
}

/** What a list change adds and removes, and how many elements stay. */
export function listDelta(
  field: FieldName,
  before: unknown,
  after: unknown,
  names: Map<string, string>,
): { added: string[]; removed: string[]; kept: number } {
  const b = listItems(field, before, names);
  const a = listItems(field, after, names);
  const bs = new Set(b);
  const as = new Set(a);
  return {
    added: a.filter((x) => !bs.has(x)),
    removed: b.filter((x) => !as.has(x)),
    kept: a.filter((x) => bs.has(x)).length,
  };
}

/** A word diff of two long texts, in git's `--word-diff=plain` notation so it reads without colour too. */
export function wordDiff(before: string, after: string, c: ChalkInstance): string {
  const inner = diffWords(before, after)
    .map((part) => {
      const text = JSON.stringify(part.value).slice(1, -1);
      if (part.added) return c.green(`{+${text}+}`);
      if (part.removed) return c.red(`[-${text}-]`);
      return text;
    })
    .join("");
  return `"${inner}"`;
}

export function isLongText(fc: FieldChange): boolean {
  return (
    typeof fc.before === "string" &&
    typeof fc.after === "string" &&
    Math.max(fc.before.length, fc.after.length) > LONG_TEXT
  );
}

const PERSON_FIELDS = ["Person.Name", "Person.Cpr", "Person.Uuid"] as const;

/** The attributes of a registration as (field, value) pairs in OS2sync's field order, skipping the uuid. */
export function attributePairs(kind: ObjectKind, attrs: Attributes): [FieldName, unknown][] {
  const out: [FieldName, unknown][] = [];
  const fields: readonly FieldName[] = kind === "orgunit" ? ORG_UNIT_DIFF_FIELDS : USER_DIFF_FIELDS;
  for (const f of fields) {
    if (f === "Uuid") continue;
    let v: unknown;
    if ((PERSON_FIELDS as readonly string[]).includes(f)) {
      v = ((attrs as UserRegistration).Person as unknown as Record<string, unknown> | undefined)?.[f.slice(7)];
    } else {
      v = (attrs as unknown as Record<string, unknown>)[f];
    }
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out.push([f, v]);
  }
  return out;
}

/** Attributes present on the object but not among the changed fields: what "N unchanged attributes hidden" counts. */
export function unchangedCount(change: Change): number {
  const attrs = change.after ?? change.before;
  if (!attrs) return 0;
  const changed = new Set((change.fields ?? []).map((f) => f.field));
  return attributePairs(change.kind, attrs).filter(([f]) => !changed.has(f)).length;
}

export function objectLabel(kind: ObjectKind, name: string, uuid: string): string {
  return `${kind} ${quote(name)} (${uuid})`;
}

/** `Plan: X to add, Y to change, Z to destroy.` plus adoptions when there are any. */
export function planLine(plan: Plan): string {
  const s = plan.summary;
  const adopt = s.adopt > 0 ? `, ${s.adopt} to adopt` : "";
  return `Plan: ${s.create} to add, ${s.update} to change, ${s.delete} to destroy${adopt}.`;
}

export const NO_CHANGES = "No changes. STS Organisation matches OS2mo.";

export function refreshLine(plan: Plan): string {
  const r = plan.refresh;
  const counts =
    `${r.fully_observed} object${r.fully_observed === 1 ? "" : "s"} fully observed, ` +
    `${r.partially_observed} partially observed`;
  switch (r.mode) {
    case "none":
      return `Refresh: none (FK was not read; FK's content is taken from the state file). ${counts}.`;
    case "hierarchy":
      return `Refresh: hierarchy (one OS2sync hierarchy read${at(r.observed_at)}; fields it does not carry are taken from state). ${counts}.`;
    case "full":
      return `Refresh: full (every object read from OS2sync${at(r.observed_at)}). ${counts}.`;
    default:
      return `Refresh: ${r.mode}${r.observed_at ? ` (read${at(r.observed_at)})` : ""}. ${counts}.`;
  }
}

function at(t: string | null): string {
  return t ? ` at ${t}` : "";
}

export function unitParent(attrs: Attributes | undefined): string | undefined {
  return (attrs as OrgUnitRegistration | undefined)?.ParentOrgUnitUuid;
}

export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}
