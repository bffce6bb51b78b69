import type { OrgUnitRegistration, UserRegistration } from "../../../src/model/index.js";

/** Deterministic uuid from a number, so objects are easy to tell apart in failures. */
export function uuid(n: number, prefix = "0"): string {
  const hex = n.toString(16).padStart(12, "0");
  return `${prefix.repeat(8)}-0000-4000-8000-${hex}`;
}

export function unit(n: number, parent?: number, extra: Partial<OrgUnitRegistration> = {}): OrgUnitRegistration {
  return {
    Uuid: uuid(n, "a"),
    Name: `Enhed ${n}`,
    ...(parent !== undefined ? { ParentOrgUnitUuid: uuid(parent, "a") } : {}),
    ...extra,
  };
}

export function user(n: number, unitNo: number, extra: Partial<UserRegistration> = {}): UserRegistration {
  return {
    Uuid: uuid(n, "b"),
    UserId: `user${n}`,
    Positions: [{ Name: "Medarbejder", OrgUnitUuid: uuid(unitNo, "a") }],
    Person: { Name: `Person ${n}` },
    ...extra,
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 5000, everyMs = 20): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const CVR = "29189846";

/** Collects progress lines. */
export function lines(): { write(s: string): void; text(): string } {
  let buf = "";
  return { write: (s) => void (buf += s), text: () => buf };
}
