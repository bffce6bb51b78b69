import { diffArrays } from "diff";

/**
 * Keeps the target file's own bytes on every line promotion did not touch.
 *
 * The yaml library re-renders a whole document when it is stringified: flow-collection padding,
 * aligned spacing and quoting are normalised even where nothing changed, which would bury the real
 * change in noise. So the edited document is merged back three ways: `base` is the untouched target
 * as the library renders it, `ours` is the target file as written (differs from base only in layout),
 * `theirs` is the edited document as the library renders it (differs from base only in content).
 * Layout-only regions keep the file's bytes; regions promotion changed take the edited rendering.
 */
export function preserveLayout(original: string, base: string, edited: string): string {
  const b = splitLines(base);
  const merged = mergeThreeWay(b, splitLines(original), splitLines(edited));
  return merged.join("");
}

interface Hunk {
  /** Base lines [start, end) are replaced by `lines`. */
  start: number;
  end: number;
  lines: string[];
  side: "ours" | "theirs";
}

export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function hunksOf(base: string[], other: string[], side: Hunk["side"]): Hunk[] {
  const out: Hunk[] = [];
  let at = 0;
  let current: Hunk | undefined;
  for (const change of diffArrays(base, other)) {
    if (!change.added && !change.removed) {
      if (current) out.push(current);
      current = undefined;
      at += change.count;
      continue;
    }
    current ??= { start: at, end: at, lines: [], side };
    if (change.removed) {
      at += change.count;
      current.end = at;
    } else {
      current.lines.push(...change.value);
    }
  }
  if (current) out.push(current);
  return out;
}

function mergeThreeWay(base: string[], ours: string[], theirs: string[]): string[] {
  const hunks = [...hunksOf(base, ours, "ours"), ...hunksOf(base, theirs, "theirs")].sort(
    (x, y) => x.start - y.start || x.end - y.end || (x.side < y.side ? -1 : x.side > y.side ? 1 : 0),
  );
  const out: string[] = [];
  let pos = 0;
  let k = 0;
  while (k < hunks.length) {
    const first = hunks[k]!;
    const group: Hunk[] = [first];
    let end = first.end;
    k++;
    // Overlapping hunks conflict, and so do two insertions at the same line (no safe order between them).
    while (k < hunks.length && conflicts(hunks[k]!, group, end)) {
      group.push(hunks[k]!);
      end = Math.max(end, hunks[k]!.end);
      k++;
    }
    out.push(...base.slice(pos, first.start));
    const sides = new Set(group.map((h) => h.side));
    // Where layout and content changes meet, content wins: the region is shown as the library renders it.
    const apply = sides.has("theirs") ? group.filter((h) => h.side === "theirs") : group;
    let p = first.start;
    for (const h of apply) {
      out.push(...base.slice(p, h.start), ...h.lines);
      p = h.end;
    }
    out.push(...base.slice(p, end));
    pos = end;
  }
  out.push(...base.slice(pos));
  return out;
}

function conflicts(h: Hunk, group: Hunk[], end: number): boolean {
  if (h.start < end) return true;
  return h.start === end && h.end === end && group.some((g) => g.start === g.end && g.start === h.start);
}
