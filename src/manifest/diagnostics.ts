/**
 * A problem found in a manifest, located in the file. `path` is the dotted path in the document
 * (`spec.municipality.cvr`, `spec.serviceAgreement.services[1].roles`), empty for the whole file.
 */
export type Severity = "error" | "warning" | "note";

export interface Diagnostic {
  severity: Severity;
  /** Stable machine-readable kind, e.g. `schema.required`, `cvr.checksum`, `secret.unresolved`. */
  code: string;
  message: string;
  file: string;
  line?: number;
  column?: number;
  path: string;
}

/** A path into the YAML document: map keys and sequence indices. */
export type DocPath = (string | number)[];

/** A finding before it is located in the file. `atKey` points at the key rather than the value. */
export interface Finding {
  severity: Severity;
  code: string;
  message: string;
  at: DocPath;
  atKey?: boolean;
}

export function formatPath(path: DocPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? seg : `.${seg}`;
  }
  return out;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

const ORDER: Record<Severity, number> = { error: 0, warning: 1, note: 2 };

/** File order (line, column), then severity: the order a person reads the file in. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort(
    (a, b) =>
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      ORDER[a.severity] - ORDER[b.severity] ||
      a.code.localeCompare(b.code) ||
      a.message.localeCompare(b.message),
  );
}
