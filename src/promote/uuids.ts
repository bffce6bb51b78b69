/** UUIDs as they appear in manifests: anywhere inside a scalar, any letter case. */
const UUID_IN_TEXT = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
const UUID_EXACT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The Organisation v4 service: the same uuid in every environment, so never a promotion concern. */
export const ORGANISATION_V4_SERVICE_UUID = "1e1c7d8d-b644-419c-a585-cb6486f04947";

export function isUuid(s: string): boolean {
  return UUID_EXACT.test(s);
}

export function uuidsIn(s: string): string[] {
  return s.match(UUID_IN_TEXT) ?? [];
}

/** Replaces each UUID in `s` with `replace(uuid)`. */
export function replaceUuids(s: string, replace: (uuid: string) => string): string {
  return s.replace(UUID_IN_TEXT, replace);
}
