import type { Change } from "../model/index.js";

/**
 * Apply order. Units are written parents first (a unit's parent must exist in FK before it), users after
 * every unit they may point at; deletes go the other way: users first (they hold positions in units),
 * then units leaves first. Sorting by depth rather than walking the tree keeps equal depths together
 * (they can be written in parallel) and tolerates cycles; ties are broken by uuid for stable output.
 */
export function orderChanges(
  changes: Change[],
  desiredParent: (uuid: string) => string | undefined,
  actualParent: (uuid: string) => string | undefined,
): Change[] {
  const desiredDepth = depthFunction(desiredParent);
  const actualDepth = depthFunction(actualParent);
  const rank = (c: Change): number => {
    if (c.action === "delete") return c.kind === "user" ? 2 : 3;
    return c.kind === "orgunit" ? 0 : 1;
  };
  const keyed = changes.map((c) => {
    const r = rank(c);
    let depth = 0;
    if (r === 0) depth = desiredDepth(c.uuid);
    else if (r === 3) depth = -actualDepth(c.uuid);
    return { c, r, depth };
  });
  keyed.sort((a, b) => a.r - b.r || a.depth - b.depth || (a.c.uuid < b.c.uuid ? -1 : a.c.uuid > b.c.uuid ? 1 : 0));
  return keyed.map((k) => k.c);
}

/** Number of ancestors reachable through `parent`; a cycle stops the count where it closes. */
export function depthFunction(parent: (uuid: string) => string | undefined): (uuid: string) => number {
  const memo = new Map<string, number>();
  return (start: string): number => {
    const known = memo.get(start);
    if (known !== undefined) return known;
    const chain: string[] = [];
    const onChain = new Set<string>();
    let cur: string | undefined = start;
    let base = 0;
    while (cur !== undefined) {
      const m = memo.get(cur);
      if (m !== undefined) {
        base = m;
        break;
      }
      if (onChain.has(cur)) break;
      onChain.add(cur);
      chain.push(cur);
      cur = parent(cur);
      if (cur === undefined) base = -1;
    }
    // `base` is the depth of the node the walk stopped at (-1 above a root).
    for (let i = chain.length - 1; i >= 0; i--) {
      base += 1;
      memo.set(chain[i]!, base);
    }
    return memo.get(start)!;
  };
}
