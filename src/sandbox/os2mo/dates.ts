import { copenhagenDate } from "../../model/index.js";

/**
 * OS2mo thinks in Danish local dates: validities are whole days in Europe/Copenhagen, written as
 * midnight datetimes with the local offset. The sandbox keeps `yyyy-mm-dd` strings internally and
 * converts at the GraphQL boundary.
 */

const ZONE = "Europe/Copenhagen";
const offsetFormat = new Intl.DateTimeFormat("en-US", { timeZone: ZONE, timeZoneName: "longOffset" });

export { copenhagenDate };

/** `+01:00` or `+02:00`: Copenhagen's offset at local midnight of `date`. */
function offsetAtMidnight(date: string): string {
  // Midnight local is 22:00 or 23:00 UTC the day before; DST switches at 01:00 UTC, so 22:00 UTC of the
  // previous day always has the offset that local midnight has.
  const probe = new Date(`${date}T00:00:00Z`);
  probe.setUTCHours(probe.getUTCHours() - 2);
  const name = offsetFormat.formatToParts(probe).find((p) => p.type === "timeZoneName")?.value ?? "GMT+01:00";
  const m = /GMT([+-]\d{2}:\d{2})/.exec(name);
  return m?.[1] ?? "+00:00";
}

/** A validity date as OS2mo writes it: `2024-03-01T00:00:00+01:00`. */
export function toMoDateTime(date: string): string {
  return `${date}T00:00:00${offsetAtMidnight(date)}`;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const NAIVE = /^(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/**
 * The Copenhagen date a DateTime argument denotes, or undefined when it is not an ISO date(time).
 * A naive datetime is read as Copenhagen local time, as OS2mo does.
 */
export function dateOfMoDateTime(value: string): string | undefined {
  if (DATE_ONLY.test(value)) return Number.isNaN(Date.parse(value)) ? undefined : value;
  const naive = NAIVE.exec(value);
  if (naive) return naive[1];
  const t = Date.parse(value);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return undefined;
  return copenhagenDate(new Date(t));
}
