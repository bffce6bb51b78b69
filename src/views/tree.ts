import type { ChalkInstance } from "chalk";
import type { Action, Change, FkState, Plan } from "../model/index.js";
import { NO_CHANGES, SYMBOL, actionColour, palette, planLine, plural, quote, refreshLine, unitParent } from "./format.js";

export interface TreeViewOptions {
  color: boolean;
  /** The desired state: names and places unchanged units, and counts unchanged users. */
  desired?: FkState;
}

interface Node {
  uuid: string;
  name: string;
  parent?: string;
  change?: Change;
  drifted?: "changed" | "deleted";
  children: Node[];
  userChanges: Change[];
  unchangedUsers: number;
  /** Totals below and including this node, for collapsed lines. */
  units: number;
  users: number;
  changed: boolean;
}

/**
 * The plan laid over the org hierarchy: each changed unit marked with its action, user changes folded
 * under the unit of their first position, unchanged subtrees collapsed to one line with counts.
 */
export function renderTree(plan: Plan, opts: TreeViewOptions): string {
  const c = palette(opts.color);
  const nodes = new Map<string, Node>();
  const node = (uuid: string, name: string, parent: string | undefined): Node => {
    let n = nodes.get(uuid);
    if (!n) {
      n = { uuid, name, parent, children: [], userChanges: [], unchangedUsers: 0, units: 0, users: 0, changed: false };
      nodes.set(uuid, n);
    }
    return n;
  };
  if (opts.desired) for (const [uuid, u] of opts.desired.orgUnits) node(uuid, u.Name, u.ParentOrgUnitUuid);
  for (const ch of plan.changes) {
    if (ch.kind !== "orgunit") continue;
    const n = node(ch.uuid, ch.name, ch.parent);
    n.name = ch.name;
    n.parent = ch.action === "delete" ? unitParent(ch.before) : (ch.parent ?? unitParent(ch.after));
    n.change = ch;
  }
  for (const d of plan.drift) if (d.kind === "orgunit") node(d.uuid, d.name, undefined).drifted = d.type;

  const top = plan.environment.admin_top_uuid;
  const topNode = node(top, nodes.get(top)?.name ?? "top unit", undefined);
  const orphans: Change[] = [];
  const changedUsers = new Set<string>();
  for (const ch of plan.changes) {
    if (ch.kind !== "user") continue;
    changedUsers.add(ch.uuid);
    const home = ch.parent === undefined ? undefined : nodes.get(ch.parent);
    if (home) home.userChanges.push(ch);
    else orphans.push(ch);
  }
  if (opts.desired) {
    for (const [uuid, u] of opts.desired.users) {
      if (changedUsers.has(uuid)) continue;
      const home = u.Positions[0] ? nodes.get(u.Positions[0].OrgUnitUuid) : undefined;
      if (home) home.unchangedUsers++;
    }
  }

  const roots: Node[] = [];
  for (const n of nodes.values()) {
    const p = n.parent === undefined || n.parent === n.uuid ? undefined : nodes.get(n.parent);
    if (p && n !== topNode) p.children.push(n);
    else if (n !== topNode) roots.push(n);
  }
  const byName = (a: Node, b: Node): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.uuid < b.uuid ? -1 : 1);
  const visited = new Set<string>();
  const total = (n: Node): void => {
    visited.add(n.uuid);
    n.children.sort(byName);
    n.userChanges.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.uuid < b.uuid ? -1 : 1));
    n.units = n === topNode ? 0 : 1;
    n.users = n.unchangedUsers + n.userChanges.length;
    n.changed = n.change !== undefined || n.drifted !== undefined || n.userChanges.length > 0;
    for (const ch of n.children) {
      if (visited.has(ch.uuid)) continue;
      total(ch);
      n.units += ch.units;
      n.users += ch.users;
      n.changed ||= ch.changed;
    }
  };
  total(topNode);
  roots.sort(byName);
  for (const r of roots) if (!visited.has(r.uuid)) total(r);

  const out: string[] = [refreshLine(plan), ""];
  const printed = new Set<string>();
  const line = (prefix: string, text: string): void => void out.push(prefix + text);
  const walk = (n: Node, prefix: string, last: boolean, isRoot: boolean): void => {
    printed.add(n.uuid);
    const branch = isRoot ? "" : last ? "└─ " : "├─ ";
    const childPrefix = isRoot ? "" : prefix + (last ? "   " : "│  ");
    if (!n.changed) {
      const below = n.units - 1;
      const parts = [below > 0 ? plural(below, "unit") + " below" : "", n.users > 0 ? plural(n.users, "user") : ""].filter(Boolean);
      line(prefix + branch, c.dim(`${n.name} (${n.uuid}) · unchanged${parts.length ? `, ${parts.join(", ")}` : ""}`));
      return;
    }
    line(prefix + branch, unitLabel(n, c, nodes));
    const rows: ({ user: Change } | { unit: Node } | { unchanged: number })[] = [
      ...n.userChanges.map((u) => ({ user: u })),
      ...(n.unchangedUsers > 0 ? [{ unchanged: n.unchangedUsers }] : []),
      ...n.children.filter((ch) => !printed.has(ch.uuid)).map((ch) => ({ unit: ch })),
    ];
    rows.forEach((row, i) => {
      const isLast = i === rows.length - 1;
      if ("user" in row) {
        line(childPrefix + (isLast ? "└─ " : "├─ "), userLabel(row.user, c));
      } else if ("unchanged" in row) {
        line(childPrefix + (isLast ? "└─ " : "├─ "), c.dim(`${plural(row.unchanged, "user")} unchanged`));
      } else {
        walk(row.unit, childPrefix, isLast, false);
      }
    });
  };
  walk(topNode, "", true, true);
  for (const r of roots) if (!printed.has(r.uuid)) walk(r, "", true, true);
  if (orphans.length > 0) {
    out.push("", "Users in units the plan does not change:");
    orphans.forEach((u, i) => line(i === orphans.length - 1 ? "└─ " : "├─ ", userLabel(u, c)));
  }
  const closing = plan.options.refresh_only
    ? "Refresh-only plan: FK will not be changed."
    : plan.changes.length === 0
      ? NO_CHANGES
      : planLine(plan);
  out.push("", c.bold(closing));
  if (plan.summary.drift > 0) out.push(`${plural(plan.summary.drift, "object")} changed outside of stsorg (drift).`);
  return out.join("\n") + "\n";
}

function mark(c: ChalkInstance, action: Action): string {
  return actionColour(c, action)(SYMBOL[action]);
}

function unitLabel(n: Node, c: ChalkInstance, nodes: Map<string, Node>): string {
  const notes: string[] = [];
  const ch = n.change;
  if (ch?.action === "update") {
    const moved = ch.fields?.find((f) => f.field === "ParentOrgUnitUuid");
    if (moved) {
      const from = typeof moved.before === "string" ? (nodes.get(moved.before)?.name ?? moved.before) : "(no parent)";
      notes.push(`moved from ${quote(from)}`);
    }
    const renamed = ch.fields?.find((f) => f.field === "Name");
    if (renamed && typeof renamed.before === "string") notes.push(`was ${quote(renamed.before)}`);
    const others = (ch.fields ?? []).filter((f) => f.field !== "Name" && f.field !== "ParentOrgUnitUuid").map((f) => f.field);
    if (others.length > 0) notes.push(others.join(", "));
  }
  if (n.drifted) notes.push(`${n.drifted} outside stsorg`);
  const symbol = ch ? `${mark(c, ch.action)} ` : "";
  const text = `${n.name} (${n.uuid})${notes.length ? ` · ${notes.join("; ")}` : ""}`;
  return symbol + (ch ? c.bold(text) : text);
}

function userLabel(u: Change, c: ChalkInstance): string {
  const fields = u.action === "update" ? ` · ${(u.fields ?? []).map((f) => f.field).join(", ")}` : "";
  return `${mark(c, u.action)} user ${u.name} (${u.uuid})${fields}`;
}
