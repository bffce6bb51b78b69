import type { ConsistencyIssue, MoObjectRef, MoOrgUnit, MoPerson } from "../model/index.js";

export function unitRef(u: MoOrgUnit): MoObjectRef {
  return { kind: "orgunit", uuid: u.uuid, name: u.name };
}

export function personRef(p: MoPerson): MoObjectRef {
  return { kind: "person", uuid: p.uuid, name: p.name };
}

/** "Name" (uuid), for messages. */
export function describe(ref: MoObjectRef): string {
  return ref.name !== undefined && ref.name !== "" ? `"${ref.name}" (${ref.uuid})` : `(${ref.uuid})`;
}

/** Issues in a stable order: by code, then by the first OS2mo object named. */
export function sortIssues(issues: ConsistencyIssue[]): ConsistencyIssue[] {
  return issues.sort((a, b) => {
    if (a.code !== b.code) return a.code < b.code ? -1 : 1;
    const au = a.objects[0]?.uuid ?? "";
    const bu = b.objects[0]?.uuid ?? "";
    if (au !== bu) return au < bu ? -1 : 1;
    return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
  });
}
