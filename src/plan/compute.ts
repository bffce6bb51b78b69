import type {
  Attributes,
  Change,
  ConsistencyIssue,
  Drift,
  FieldChange,
  FieldName,
  GuardResult,
  ObjectKind,
  Observed,
  OrgUnitRegistration,
  Plan,
  PlanSummary,
  ResourceAddress,
  StateResource,
  UserRegistration,
} from "../model/index.js";
import { PLAN_FORMAT_VERSION, addressOf, canonicalJson, cprKeyId, planIdOf } from "../model/index.js";
import {
  diffFields,
  displayName,
  getField,
  isSensitive,
  managedFields,
  parentOf,
  sameValue,
  setField,
  toAttributes,
} from "./fields.js";
import { orderChanges } from "./order.js";
import type { PlanInput, PlanPolicy } from "./types.js";

/**
 * The plan: what `apply` would do to make FK equal to the desired state, and what changed in FK behind
 * stsorg's back. Pure: the same input gives the same plan, byte for byte, under `canonicalJson`.
 */
export function computePlan(input: PlanInput): Plan {
  const { desired, actual, state, policy, meta } = input;
  const cprKey = policy.cprHashKey;
  const stateByAddress = new Map<string, StateResource>();
  for (const r of state?.resources ?? []) stateByAddress.set(r.address, r);

  const unitParentsActual = new Map<string, string | undefined>();
  for (const [uuid, o] of actual.orgUnits) unitParentsActual.set(uuid, o.value.ParentOrgUnitUuid);
  const underTop = underTopFunction(policy.adminTopUuid, unitParentsActual);

  const changes: Change[] = [];
  const drift: Drift[] = [];
  const warnings: ConsistencyIssue[] = [];
  const observedCounts = { full: 0, partial: 0 };

  const kinds: { kind: ObjectKind; desired: Map<string, Attributes>; actual: Map<string, Observed<Attributes>> }[] = [
    { kind: "orgunit", desired: desired.orgUnits, actual: actual.orgUnits },
    { kind: "user", desired: desired.users, actual: actual.users },
  ];
  for (const k of kinds) {
    const owned = (uuid: string, a: Attributes, inState: boolean): boolean => {
      if (inState) return true;
      if (policy.prune !== "all-under-top") return false;
      if (k.kind === "orgunit") return uuid !== policy.adminTopUuid && underTop(uuid);
      const positions = (a as UserRegistration).Positions ?? [];
      return positions.every((p) => p.OrgUnitUuid === policy.adminTopUuid || underTop(p.OrgUnitUuid));
    };
    diffKind(k.kind, k.desired, k.actual, stateByAddress, policy, cprKey, owned, {
      changes,
      drift,
      warnings,
      observedCounts,
    });
  }

  warnings.push(...orphanWarnings(changes, desired.orgUnits, actual.orgUnits));

  const targets = new Set<string>(policy.targets.map((t) => t.toLowerCase()));
  const inScope = (address: string): boolean => targets.size === 0 || targets.has(address);
  let scopedChanges = changes.filter((c) => inScope(c.address));
  const scopedDrift = drift.filter((d) => inScope(d.address));
  let scopedWarnings = warnings.filter((w) => (w.fk ?? []).length === 0 || (w.fk ?? []).some((r) => inScope(addressOf(r.kind, r.uuid))));
  const issueInScope = (i: ConsistencyIssue): boolean =>
    (i.fk ?? []).length === 0 || (i.fk ?? []).some((r) => inScope(addressOf(r.kind, r.uuid.toLowerCase())));
  const errors = desired.issues.filter((i) => i.severity === "error" && issueInScope(i));
  const mappingWarnings = desired.issues.filter((i) => i.severity !== "error" && issueInScope(i));

  if (policy.refreshOnly) {
    scopedChanges = [];
    scopedWarnings = [];
  }
  if (targets.size > 0) {
    scopedWarnings = [...targetWarnings(changes, scopedChanges, policy.targets), ...scopedWarnings];
  }

  const ordered = orderChanges(
    scopedChanges,
    (uuid) => desired.orgUnits.get(uuid)?.ParentOrgUnitUuid,
    (uuid) => unitParentsActual.get(uuid),
  );
  const guards = deleteGuards(ordered, state?.resources.length ?? 0, policy);

  const body: Omit<Plan, "plan_id" | "created_at"> = {
    format_version: PLAN_FORMAT_VERSION,
    tool_version: meta.toolVersion,
    environment: { ...meta.environment },
    manifest_sha256: meta.manifestSha256,
    state: { lineage: state?.lineage ?? null, serial: state?.serial ?? 0 },
    refresh: {
      mode: actual.mode,
      observed_at: actual.observedAt,
      fully_observed: observedCounts.full,
      partially_observed: observedCounts.partial,
    },
    options: {
      refresh_only: policy.refreshOnly,
      targets: [...policy.targets].map((t) => t.toLowerCase() as ResourceAddress).sort(),
      prune: policy.prune,
      allow_deletes: policy.allowDeletes,
    },
    changes: ordered,
    drift: scopedDrift,
    errors,
    warnings: [...mappingWarnings, ...scopedWarnings],
    guards,
    summary: summarise(ordered, scopedDrift.length),
    cpr: { synced: cprKey !== null, key_id: cprKey === null ? null : cprKeyId(cprKey) },
  };
  // Round-trip through canonical JSON so the returned object holds no undefined members and equals what
  // a saved plan file reads back as.
  const bodyJson = canonicalJson(body);
  const normalisedBody = JSON.parse(bodyJson) as Omit<Plan, "plan_id" | "created_at">;
  return { ...normalisedBody, plan_id: planIdOf(normalisedBody), created_at: meta.createdAt } as Plan;
}

interface Sink {
  changes: Change[];
  drift: Drift[];
  warnings: ConsistencyIssue[];
  observedCounts: { full: number; partial: number };
}

function diffKind(
  kind: ObjectKind,
  desiredMap: Map<string, Attributes>,
  actualMap: Map<string, Observed<Attributes>>,
  stateByAddress: Map<string, StateResource>,
  policy: PlanPolicy,
  cprKey: string | null,
  owned: (uuid: string, a: Attributes, inState: boolean) => boolean,
  sink: Sink,
): void {
  const managed = managedFields(kind, policy.unmanagedFields, cprKey !== null);
  const managedSet = new Set<FieldName>(managed);
  const carried = diffFields(kind).filter((f) => f !== "Uuid" && !managedSet.has(f) && (f !== "Person.Cpr" || cprKey !== null));
  const protectedUnits = new Set([policy.adminTopUuid, ...policy.protectedUnits].map((u) => u.toLowerCase()));

  const uuids = new Set<string>([...desiredMap.keys(), ...actualMap.keys()]);
  for (const r of stateByAddress.values()) if (r.kind === kind) uuids.add(r.uuid);

  for (const uuid of [...uuids].sort()) {
    const address = addressOf(kind, uuid);
    const desiredReg = desiredMap.get(uuid);
    const observed = actualMap.get(uuid);
    const stateRes = stateByAddress.get(address);
    const stateAttrs = stateRes ? toAttributes(kind, stateRes.attributes, cprKey) : undefined;
    const isObserved = observedPredicate(observed);
    const pushDelete = (name: string, attrs: Attributes, reason: string) =>
      sink.changes.push(withParent(kind, { action: "delete", address, kind, uuid, name, before: attrs, reason }));

    let before: Attributes | undefined;
    if (observed) {
      before = toAttributes(kind, observed.value, cprKey);
      const fullyObserved = managed.every(isObserved);
      if (fullyObserved) sink.observedCounts.full++;
      else sink.observedCounts.partial++;
      // Fields the refresh did not read: what stsorg last applied is the best knowledge of FK's content.
      if (stateAttrs) {
        for (const f of diffFields(kind)) if (f !== "Uuid" && !isObserved(f)) setField(before, f, getField(stateAttrs, f));
      }
    }

    let drifted = false;
    if (stateRes && stateAttrs) {
      if (!observed) {
        sink.drift.push({ address, kind, uuid, name: stateRes.name, type: "deleted", fields: [] });
      } else {
        const fields: FieldChange[] = [];
        for (const f of managed) {
          if (!isObserved(f)) continue;
          const was = getField(stateAttrs, f);
          const now = getField(before!, f);
          if (!sameValue(f, was, now)) fields.push(fieldChange(f, was, now));
        }
        if (fields.length > 0) {
          drifted = true;
          sink.drift.push({ address, kind, uuid, name: displayName(kind, before!), type: "changed", fields });
        }
      }
    }

    if (desiredReg && !observed) {
      const after = toAttributes(kind, desiredReg, cprKey);
      sink.changes.push(
        withParent(kind, {
          action: "create",
          address,
          kind,
          uuid,
          name: displayName(kind, after),
          after,
          reason: stateRes ? "deleted from FK outside stsorg; re-created" : "not in FK",
        }),
      );
    } else if (desiredReg && observed && before) {
      const after = toAttributes(kind, desiredReg, cprKey);
      for (const f of carried) setField(after, f, getField(before, f));
      const fields: FieldChange[] = [];
      const unobserved: FieldName[] = [];
      for (const f of managed) {
        const seen = isObserved(f);
        if (!seen) unobserved.push(f);
        // Without a record in state an unread field's FK value is unknown; it is not compared.
        if (!seen && !stateAttrs) continue;
        const was = getField(before, f);
        const will = getField(after, f);
        if (!sameValue(f, was, will)) {
          const fc = fieldChange(f, was, will);
          if (!seen) fc.unobserved = true;
          fields.push(fc);
        }
      }
      const base: Change = {
        action: "update",
        address,
        kind,
        uuid,
        name: displayName(kind, after),
        before,
        after,
      };
      if (unobserved.length > 0) base.unobserved = unobserved;
      if (fields.length > 0) {
        sink.changes.push(withParent(kind, { ...base, fields, reason: "differs from OS2mo" }));
      } else if (!stateRes) {
        sink.changes.push(withParent(kind, { ...base, action: "adopt", fields: [], reason: "matches OS2mo; recorded in state without a write" }));
      } else if (drifted) {
        // FK was changed outside stsorg to what OS2mo says: nothing to write, but state's record is stale
        // and would report the same drift on every plan until it is recorded again.
        sink.changes.push(withParent(kind, { ...base, action: "adopt", fields: [], reason: "changed outside stsorg to match OS2mo; state record refreshed without a write" }));
      }
    } else if (!desiredReg && observed && before) {
      if (!owned(uuid, observed.value, stateRes !== undefined)) continue;
      const name = displayName(kind, before);
      if (kind === "orgunit" && protectedUnits.has(uuid)) {
        const top = uuid === policy.adminTopUuid.toLowerCase();
        sink.warnings.push({
          severity: "warning",
          code: "protected-unit",
          message: `orgunit "${name}" (${uuid}) is not in OS2mo's export but is ${top ? "the top unit" : "a protected unit"}: it is not deleted.`,
          objects: [],
          fk: [{ kind, uuid }],
          hint: top ? undefined : "Remove it from safety.protectedUnits to let stsorg delete it.",
        });
        continue;
      }
      pushDelete(name, before, stateRes ? "managed by stsorg; no longer in OS2mo" : "under the top unit (prune: all-under-top); not in OS2mo");
    } else if (!desiredReg && !observed && stateRes && stateAttrs && !protectedUnits.has(uuid)) {
      // Gone from OS2mo and already gone from FK: only state still holds it. Planned as a delete so
      // state lets go of it (apply reads it back first and sends nothing when FK has no such object);
      // otherwise the same "deleted outside stsorg" drift would be reported on every plan.
      pushDelete(stateRes.name, stateAttrs, "no longer in OS2mo and already deleted from FK outside stsorg; removed from state");
    }
  }
}

function observedPredicate(observed: Observed<Attributes> | undefined): (f: FieldName) => boolean {
  if (!observed || observed.observed === "all") return () => observed !== undefined;
  const set = new Set<FieldName>(observed.observed);
  return (f) => set.has(f);
}

function fieldChange(field: FieldName, before: unknown, after: unknown): FieldChange {
  const fc: FieldChange = { field };
  if (before !== undefined) fc.before = before;
  if (after !== undefined) fc.after = after;
  if (isSensitive(field)) fc.sensitive = true;
  return fc;
}

function withParent(kind: ObjectKind, c: Change): Change {
  const attrs = c.after ?? c.before;
  const parent = attrs ? parentOf(kind, attrs) : undefined;
  return parent === undefined ? c : { ...c, parent };
}

/** Whether an FK unit sits below the admin top unit (following FK's parent links). */
function underTopFunction(topUuid: string, parents: Map<string, string | undefined>): (uuid: string) => boolean {
  const top = topUuid.toLowerCase();
  const memo = new Map<string, boolean>();
  return (start) => {
    const path: string[] = [];
    const seen = new Set<string>();
    let cur = parents.has(start) ? start : undefined;
    let result = false;
    while (cur !== undefined) {
      const m = memo.get(cur);
      if (m !== undefined) {
        result = m;
        break;
      }
      if (seen.has(cur)) break;
      seen.add(cur);
      path.push(cur);
      const p = parents.get(cur);
      if (p === top) {
        result = true;
        break;
      }
      cur = p;
    }
    for (const u of path) memo.set(u, result);
    return result;
  };
}

/** A unit deleted while FK units stay beneath it would leave them without a parent. */
function orphanWarnings(
  changes: Change[],
  desiredUnits: Map<string, OrgUnitRegistration>,
  actualUnits: Map<string, Observed<OrgUnitRegistration>>,
): ConsistencyIssue[] {
  const deleted = new Set(changes.filter((c) => c.action === "delete" && c.kind === "orgunit").map((c) => c.uuid));
  if (deleted.size === 0) return [];
  const staying = new Map<string, string[]>();
  for (const [uuid, o] of actualUnits) {
    if (deleted.has(uuid)) continue;
    const parent = desiredUnits.has(uuid) ? desiredUnits.get(uuid)!.ParentOrgUnitUuid : o.value.ParentOrgUnitUuid;
    if (parent !== undefined && deleted.has(parent)) {
      const list = staying.get(parent) ?? [];
      list.push(uuid);
      staying.set(parent, list);
    }
  }
  const out: ConsistencyIssue[] = [];
  for (const [parent, children] of [...staying].sort(([a], [b]) => (a < b ? -1 : 1))) {
    children.sort();
    const name = actualUnits.get(parent)?.value.Name ?? parent;
    out.push({
      severity: "warning",
      code: "delete-leaves-children",
      message: `orgunit "${name}" (${parent}) is deleted but ${children.length} FK unit(s) under it are not: ${children.join(", ")}.`,
      objects: [],
      fk: [{ kind: "orgunit", uuid: parent }, ...children.map((uuid) => ({ kind: "orgunit" as const, uuid }))],
      hint: "Move or protect the units beneath it, or check whether the unit should stay in OS2mo's export.",
    });
  }
  return out;
}

function targetWarnings(all: Change[], scoped: Change[], targets: ResourceAddress[]): ConsistencyIssue[] {
  const out: ConsistencyIssue[] = [
    {
      severity: "warning",
      code: "partial-plan",
      message:
        `Resource targeting is in effect: this plan covers only ${targets.length} selected object(s) and may not ` +
        "show every change OS2mo calls for. --target is for exceptional situations such as recovering from a " +
        "failed apply, not for routine use.",
      objects: [],
      hint: "Run a plan without --target afterwards to see the remaining changes.",
    },
  ];
  // A targeted object that needs a unit which is itself only about to be created would fail in FK.
  const createdUnits = new Map(all.filter((c) => c.kind === "orgunit" && c.action === "create").map((c) => [c.uuid, c]));
  const scopedUuids = new Set(scoped.map((c) => c.address));
  for (const c of scoped) {
    if (c.action !== "create" && c.action !== "update") continue;
    const needs = new Set<string>();
    if (c.kind === "orgunit") {
      const p = (c.after as OrgUnitRegistration | undefined)?.ParentOrgUnitUuid;
      if (p !== undefined) needs.add(p);
    } else {
      for (const pos of (c.after as UserRegistration | undefined)?.Positions ?? []) needs.add(pos.OrgUnitUuid);
    }
    for (const uuid of [...needs].sort()) {
      const missing = createdUnits.get(uuid);
      if (!missing || scopedUuids.has(missing.address)) continue;
      out.push({
        severity: "warning",
        code: "target-needs-unit",
        message: `${c.kind} "${c.name}" (${c.uuid}) refers to orgunit "${missing.name}" (${uuid}), which does not exist in FK yet and is not targeted.`,
        objects: [],
        fk: [{ kind: c.kind, uuid: c.uuid }, { kind: "orgunit", uuid }],
        hint: `Add --target ${missing.address}.`,
      });
    }
  }
  return out;
}

function deleteGuards(changes: Change[], managedCount: number, policy: PlanPolicy): GuardResult[] {
  const deletes = changes.filter((c) => c.action === "delete").length;
  if (deletes === 0) return [];
  if (policy.allowDeletes !== null && policy.allowDeletes >= deletes) return [];
  const { count, percent } = policy.maxDeletes;
  // With nothing managed yet, any delete is all of it.
  const share = managedCount === 0 ? 100 : (deletes * 100) / managedCount;
  const overCount = deletes > count;
  const overPercent = share > percent;
  if (!overCount && !overPercent) return [];
  const shareText = managedCount === 0 ? "no objects are managed yet" : `${formatPercent(share)}% of ${managedCount} managed objects`;
  const allowed =
    policy.allowDeletes !== null ? ` (--allow-deletes ${policy.allowDeletes} allows only ${policy.allowDeletes})` : "";
  return [
    {
      guard: "max-deletes",
      message:
        `The plan deletes ${deletes} objects (${shareText}), more than safety.maxDeletes allows ` +
        `(${count} objects or ${percent}%)${allowed}. Check the deletes, then run again with --allow-deletes ${deletes} to allow them.`,
      override: `--allow-deletes ${deletes}`,
    },
  ];
}

function formatPercent(p: number): string {
  return (Math.round(p * 10) / 10).toString();
}

function summarise(changes: Change[], drift: number): PlanSummary {
  const zero = () => ({ create: 0, update: 0, delete: 0, adopt: 0 });
  const s: PlanSummary = { create: 0, update: 0, delete: 0, adopt: 0, drift, orgunit: zero(), user: zero() };
  for (const c of changes) {
    s[c.action]++;
    s[c.kind][c.action]++;
  }
  return s;
}
