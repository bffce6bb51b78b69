import { createTwoFilesPatch } from "diff";
import type { PromotionFinding, PromotionResult, ValueOrigin } from "./types.js";

/** The change to the target file as a unified diff (empty when nothing changes). Both names are the target's path. */
export function promotionDiff(result: PromotionResult): string {
  if (!result.changed) return "";
  return createTwoFilesPatch(result.target, result.target, result.before, result.after, undefined, undefined, {
    context: 3,
  });
}

/**
 * What a reviewer must read besides the diff: refusals (each with its path in the promoted document,
 * the uuid, whose uuid it is and where it came from), uuids carried over for review, and uuids mapped.
 * Plain text lines, no colour; empty when there is nothing to say.
 */
export function promotionReport(result: PromotionResult): string {
  const lines: string[] = [];
  const by = (k: PromotionFinding["kind"]) => result.findings.filter((f) => f.kind === k);
  const refused = by("refused");
  const review = by("review");
  const mapped = by("mapped");
  if (refused.length > 0) {
    lines.push(
      `Promotion refused: ${result.target} would contain ${count(refused.length, "uuid")} that ${refused.length === 1 ? "belongs" : "belong"} to ${result.source}'s environment (test and prod uuids differ):`,
    );
    for (const f of refused) {
      if (f.kind !== "refused") continue;
      lines.push(`  ${f.path}: ${f.uuid} is ${result.source}'s ${f.sourceField}; ${originText(f.origin)}`);
    }
    lines.push(
      `  Put the target's own uuid in place: map it in ${result.target} spec.promotion.uuidMap (source uuid: target uuid), or change the value at the path named.`,
    );
  }
  if (review.length > 0) {
    if (lines.length > 0) lines.push("");
    lines.push(
      `Warning: ${count(review.length, "uuid")} carried over from ${result.source} unchanged; check that each exists in ${result.target}'s environment, or map it in spec.promotion.uuidMap (map a uuid to itself to mark it as shared):`,
    );
    for (const f of review) {
      if (f.kind !== "review") continue;
      const replaces = f.replaces ? `, replaces ${result.target}'s ${f.replaces}` : "";
      lines.push(`  ${f.path}: ${f.uuid} (${originText(f.origin, false)}${replaces})`);
    }
  }
  if (mapped.length > 0) {
    if (lines.length > 0) lines.push("");
    lines.push(`Mapped through ${result.target} spec.promotion.uuidMap:`);
    for (const f of mapped) if (f.kind === "mapped") lines.push(`  ${f.path}: ${f.uuid} -> ${f.mappedTo}`);
  }
  return lines.length > 0 ? lines.join("\n") + "\n" : "";
}

function originText(o: ValueOrigin, verbose = true): string {
  const where = `${o.file}${o.line !== undefined ? `:${o.line}` : ""}`;
  if (!verbose) return `from ${where}`;
  switch (o.from) {
    case "source":
      return `copied from ${where} (${o.path})`;
    case "uuidMap":
      return `the target of the uuidMap entry at ${where} (${o.path})`;
    case "target":
      return `already in ${where} (kept from the target)`;
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
