/**
 * What promotion reads and returns. The core is pure: manifest texts in, the promoted target text and
 * findings out; reading and writing files is the command's job.
 */

/** A manifest's text and the name to show for it (a path relative to the working directory). */
export interface ManifestText {
  file: string;
  text: string;
}

/** Where a value in the promoted document came from. */
export interface ValueOrigin {
  /** `source` (copied from the promoted-from manifest), `target` (kept), or `uuidMap` (the target's map). */
  from: "source" | "target" | "uuidMap";
  file: string;
  /** 1-based line in `file`, when the value has a position there. */
  line?: number;
  /** Path of the value in `file`. */
  path: string;
}

/**
 * One UUID worth telling someone about:
 * | kind      | meaning                                                                            |
 * |-----------|------------------------------------------------------------------------------------|
 * | `refused` | the result would hold a UUID that is environment-specific in the source; blocks    |
 * | `review`  | a UUID from the portable part carried over unchanged (not in uuidMap); check it     |
 * | `mapped`  | a UUID from the portable part replaced through the target's `promotion.uuidMap`    |
 */
export type PromotionFinding =
  | {
      kind: "refused";
      /** Path in the promoted document. */
      path: string;
      uuid: string;
      /** The source field the UUID belongs to, e.g. `spec.sts.adminTopUuid`. */
      sourceField: string;
      origin: ValueOrigin;
    }
  | {
      kind: "review";
      path: string;
      uuid: string;
      origin: ValueOrigin;
      /** The target's own uuid this one overwrites at the same path, if any. */
      replaces?: string;
    }
  | { kind: "mapped"; path: string; uuid: string; mappedTo: string; origin: ValueOrigin };

export interface PromotionResult {
  source: string;
  target: string;
  /** The target manifest as it is. */
  before: string;
  /** The target manifest after promotion (equal to `before` when nothing changes). */
  after: string;
  changed: boolean;
  /** True when any finding is `refused`: nothing may be written. */
  refused: boolean;
  /** Sorted by kind (refused, review, mapped), then path. */
  findings: PromotionFinding[];
}
