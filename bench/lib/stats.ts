/** Median with min and max of repeated measurements: the form every figure in the report takes. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Every measurement, in run order. */
  values: number[];
}

export function spread(values: number[]): Spread {
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN, values: [] };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, values };
}

/** `12.3 (11.9–13.0)`; a single run or an unvarying count prints its one value. */
export function formatSpread(s: Spread, digits: number): string {
  if (Number.isNaN(s.median)) return "–";
  const f = (n: number) => n.toFixed(digits);
  if (s.values.length <= 1 || s.min === s.max) return f(s.median);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}
