import { readFileSync } from "node:fs";

/** Names of the query files in ./queries/ (without `.graphql`). */
export const FK_QUERY_NAMES = ["org-units", "users"] as const;
export type FkQueryName = (typeof FK_QUERY_NAMES)[number];

/** Folder holding the .graphql files, next to this module in src/ and (copied) in dist/. */
export const FK_QUERIES_DIR = new URL("./queries/", import.meta.url);

const cache = new Map<FkQueryName, { text: string; operation: string }>();

/** The text of a query file and its operation name (sent as `operationName`, used in messages). */
export function loadFkQuery(name: FkQueryName): { text: string; operation: string } {
  let q = cache.get(name);
  if (!q) {
    const text = readFileSync(new URL(`${name}.graphql`, FK_QUERIES_DIR), "utf8");
    const operation = /\bquery\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(text)?.[1] ?? name;
    q = { text, operation };
    cache.set(name, q);
  }
  return q;
}
