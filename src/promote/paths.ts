/** A path inside a YAML document: map keys and sequence indexes. */
export type DocPath = readonly (string | number)[];

/** `spec.sync.emailScopeClasses[0]`; keys that are not plain identifiers are quoted: `a["x.y"]`. */
export function formatPath(path: DocPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function startsWith(path: DocPath, prefix: DocPath): boolean {
  return prefix.length <= path.length && prefix.every((seg, i) => path[i] === seg);
}
