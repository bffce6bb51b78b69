// Copies non-TypeScript assets that the compiled code reads at run time (GraphQL queries, SDL files)
// from src/ into dist/, keeping their relative paths.
import { cpSync, readdirSync, statSync, mkdirSync } from "node:fs";
import { join, dirname, relative } from "node:path";

const ASSET = /\.(graphql|gql|json)$/;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (ASSET.test(name)) {
      const out = join("dist", relative("src", p));
      mkdirSync(dirname(out), { recursive: true });
      cpSync(p, out);
    }
  }
}
walk("src");
