import type { MoAddress } from "../model/index.js";
import { cmpStr, type PreparedPolicy } from "./prepared.js";

/** The OrgUnitRegistration fields OS2mo addresses fill. */
export type UnitAddressField =
  | "Email"
  | "Ean"
  | "PhoneNumber"
  | "Landline"
  | "Contact"
  | "Location"
  | "Post"
  | "PNR"
  | "ContactOpenHours"
  | "PhoneOpenHours"
  | "DtrId"
  | "Url";

const TEXT_FIELDS = new Set<string>(["ContactOpenHours", "PhoneOpenHours", "DtrId"]);

/** Which unit field an address fills, by its type's scope (and user_key for DAR and TEXT). */
export function unitFieldOf(a: MoAddress, p: PreparedPolicy): UnitAddressField | undefined {
  const t = a.address_type;
  switch (t.scope) {
    case "EMAIL":
      return "Email";
    case "EAN":
      return "Ean";
    case "PHONE":
      return p.landlineRank.has(t.uuid) ? "Landline" : "PhoneNumber";
    case "DAR":
      return t.user_key === "Contact" ? "Contact" : t.user_key === "Location" ? "Location" : "Post";
    case "PNUMBER":
      return "PNR";
    case "WWW":
      return "Url";
    case "TEXT":
      return TEXT_FIELDS.has(t.user_key) ? (t.user_key as UnitAddressField) : undefined;
    default:
      return undefined;
  }
}

function classRankFor(field: UnitAddressField, p: PreparedPolicy): Map<string, number> | undefined {
  if (field === "Email") return p.emailRank;
  if (field === "PhoneNumber") return p.phoneRank;
  if (field === "Landline") return p.landlineRank;
  return undefined;
}

/** The readable value; a DAR address's `value` is a DAR uuid, never a text to show. */
function textOf(a: MoAddress): string | null {
  if (a.name !== null && a.name !== undefined) return a.name;
  return a.address_type.scope === "DAR" ? null : a.value;
}

/**
 * Unit address fields. Competing addresses are decided by the field's class list (listed classes
 * first, in list order) and then by address uuid, so the result never depends on OS2mo's order.
 */
export function unitAddressFields(
  addresses: readonly MoAddress[],
  p: PreparedPolicy,
): Partial<Record<UnitAddressField, string>> {
  const best = new Map<UnitAddressField, { rank: number; a: MoAddress }>();
  for (const a of addresses) {
    const field = unitFieldOf(a, p);
    if (field === undefined) continue;
    if (textOf(a) === null) continue;
    const r = classRankFor(field, p)?.get(a.address_type.uuid) ?? Number.MAX_SAFE_INTEGER;
    const cur = best.get(field);
    if (!cur || r < cur.rank || (r === cur.rank && cmpStr(a.uuid, cur.a.uuid) < 0)) best.set(field, { rank: r, a });
  }
  const out: Partial<Record<UnitAddressField, string>> = {};
  for (const [field, { a }] of best) out[field] = textOf(a) ?? undefined;
  return out;
}

function isPublic(a: MoAddress): boolean {
  return a.visibility === null || a.visibility === undefined || a.visibility.scope === "PUBLIC";
}

/**
 * A user's Email / PhoneNumber / Landline: only public (or unmarked) addresses whose type is in the
 * class list count; the earliest listed class wins, then the smallest address uuid.
 */
export function pickUserAddress(addresses: readonly MoAddress[], classRank: Map<string, number>): string | undefined {
  if (classRank.size === 0) return undefined;
  let best: { rank: number; a: MoAddress } | undefined;
  for (const a of addresses) {
    const r = classRank.get(a.address_type.uuid);
    if (r === undefined || !isPublic(a)) continue;
    if (textOf(a) === null) continue;
    if (!best || r < best.rank || (r === best.rank && cmpStr(a.uuid, best.a.uuid) < 0)) best = { rank: r, a };
  }
  return best ? (textOf(best.a) ?? undefined) : undefined;
}

/** `employeeEngagementAddress`: the unit's address whose type name is listed first, then by uuid. */
export function pickWorkAddress(addresses: readonly MoAddress[], nameRank: Map<string, number>): string | undefined {
  if (nameRank.size === 0) return undefined;
  let best: { rank: number; a: MoAddress } | undefined;
  for (const a of addresses) {
    const r = nameRank.get(a.address_type.name.trim());
    if (r === undefined) continue;
    if (textOf(a) === null) continue;
    if (!best || r < best.rank || (r === best.rank && cmpStr(a.uuid, best.a.uuid) < 0)) best = { rank: r, a };
  }
  return best ? (textOf(best.a) ?? undefined) : undefined;
}
