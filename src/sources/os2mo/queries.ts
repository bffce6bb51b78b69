import { readFileSync } from "node:fs";

/** Names of the query files in ./queries/ (without `.graphql`). */
export const QUERY_NAMES = ["org-units", "engagements", "persons", "addresses", "itusers", "managers", "kles"] as const;
export type QueryName = (typeof QUERY_NAMES)[number];

/** Folder holding the .graphql files, next to this module in src/ and (copied) in dist/. */
export const QUERIES_DIR = new URL("./queries/", import.meta.url);

const cache = new Map<QueryName, { text: string; operation: string }>();

/** The text of a query file and its operation name (used in requests and error messages). */
export function loadQuery(name: QueryName): { text: string; operation: string } {
  let q = cache.get(name);
  if (!q) {
    const text = readFileSync(new URL(`${name}.graphql`, QUERIES_DIR), "utf8");
    const operation = /\bquery\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(text)?.[1] ?? name;
    q = { text, operation };
    cache.set(name, q);
  }
  return q;
}
