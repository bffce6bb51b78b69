import { isCollection, isMap, isNode, isScalar, isSeq, Pair, type Node, type YAMLMap, type YAMLSeq } from "yaml";

/**
 * Makes a target node equal in content to a source node while reusing the target's nodes wherever
 * the content already agrees, so the comments, blank lines and flow/block style attached to them
 * survive. Map keys keep their position in the target; keys new in the source are placed after the
 * key that precedes them in the source. Sequence items follow the source's order.
 */

/** Key of a map pair as text (scalar keys only; other keys are left alone). */
export function keyOf(pair: Pair<unknown, unknown>): string | undefined {
  if (isScalar(pair.key)) return String(pair.key.value);
  if (pair.key === null || pair.key === undefined || isNode(pair.key)) return undefined;
  return String(pair.key);
}

/** Returns the node to use in place of `target`: `target` itself (edited in place) or a copy of `source`. */
export function mergeNode(target: unknown, source: unknown): unknown {
  if (isMap(target) && isMap(source)) {
    mergeMap(target, source, new Set());
    return target;
  }
  if (isSeq(target) && isSeq(source)) {
    mergeSeq(target, source);
    return target;
  }
  if (isScalar(target) && isScalar(source) && Object.is(target.value, source.value)) return target;
  return replacement(target, source);
}

/** Target keys absent from the source are removed, except those in `keep`, which stay as the target has them. */
export function mergeMap(target: YAMLMap<unknown, unknown>, source: YAMLMap<unknown, unknown>, keep: ReadonlySet<string>): void {
  const sourceKeys = new Set(source.items.map(keyOf));
  target.items = target.items.filter((p) => {
    const k = keyOf(p);
    return k === undefined || keep.has(k) || sourceKeys.has(k);
  });
  let insertAt = 0;
  for (const sp of source.items) {
    const k = keyOf(sp);
    if (k === undefined || keep.has(k)) continue;
    const idx = target.items.findIndex((p) => keyOf(p) === k);
    if (idx >= 0) {
      const tp = target.items[idx]!;
      tp.value = mergeNode(tp.value, sp.value);
      insertAt = idx + 1;
    } else {
      target.items.splice(insertAt, 0, new Pair(copy(sp.key), copy(sp.value)));
      insertAt++;
    }
  }
}

function mergeSeq(target: YAMLSeq<unknown>, source: YAMLSeq<unknown>): void {
  const used = new Set<number>();
  const items: unknown[] = [];
  for (const si of source.items) {
    const id = identity(si);
    const idx = target.items.findIndex((ti, i) => !used.has(i) && identity(ti) === id);
    if (idx >= 0) {
      used.add(idx);
      items.push(mergeNode(target.items[idx], si));
    } else {
      items.push(copy(si));
    }
  }
  target.items = items;
}

/** Items that are maps with a `name` (services, roles) are matched by name; anything else by content. */
function identity(item: unknown): string {
  if (isMap(item)) {
    const name = item.get("name", true);
    if (isScalar(name)) return `name:${String(name.value)}`;
  }
  return `json:${JSON.stringify(isNode(item) ? item.toJSON() : item)}`;
}

/** A copy of the source node that keeps the target node's comments and spacing (the key survived). */
function replacement(target: unknown, source: unknown): unknown {
  const next = copy(source);
  if (isNode(target) && isNode(next)) {
    if (target.commentBefore) next.commentBefore = target.commentBefore;
    if (target.comment) next.comment = target.comment;
    if (target.spaceBefore) next.spaceBefore = target.spaceBefore;
    // A one-line flow list stays a one-line flow list when its content changes.
    if (isCollection(target) && isCollection(next) && isSeq(target) === isSeq(next)) next.flow = target.flow;
  }
  return next;
}

function copy(v: unknown): unknown {
  return isNode(v) ? (v as Node).clone() : v;
}
