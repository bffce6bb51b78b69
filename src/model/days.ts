/**
 * OS2mo's validities, FK's dates and the service agreement's dates are Danish calendar days: a day
 * starts at midnight in Copenhagen (22:00 or 23:00 UTC the evening before).
 */
const COPENHAGEN_DAY = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Copenhagen", year: "numeric", month: "2-digit", day: "2-digit" });

/** The Copenhagen calendar date (`yyyy-mm-dd`) of an instant. */
export function copenhagenDate(instant: Date): string {
  return COPENHAGEN_DAY.format(instant);
}
