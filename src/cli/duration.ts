import { UsageError } from "../errors/index.js";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration as Terraform users write it: `30s`, `5m`, `1h30m`, `24h`, or plain seconds. */
export function parseDuration(text: string, flag: string): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) {
    throw new UsageError(`${flag}: "${text}" is not a duration.`, { hint: "Write it like 30s, 5m, 1h30m or 24h." });
  }
  return Math.round(total);
}
