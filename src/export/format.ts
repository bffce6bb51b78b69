import { stringify } from "yaml";
import type { FkExport } from "./model.js";

export type ExportFormat = "json" | "yaml" | "csv";
export const EXPORT_FORMATS: ExportFormat[] = ["json", "yaml", "csv"];

/** What one export holds: both kinds, or one (a CSV file is one table, so CSV needs one). */
export type ExportKind = "units" | "users";
export const EXPORT_KINDS: ExportKind[] = ["units", "users"];

export type CsvDelimiter = "," | ";";

/** Makes spreadsheet programs (Excel in particular) read the file as UTF-8, so æ, ø and å survive. */
export const UTF8_BOM = "\uFEFF";

/** The export without the kind left out; key order is fixed by construction, so output is stable. */
function selected(data: FkExport, kind: ExportKind | undefined): Record<string, unknown> {
  const { formatVersion, environment, refresh, orgUnits, users } = data;
  return {
    formatVersion,
    environment,
    refresh,
    ...(kind !== "users" ? { orgUnits } : {}),
    ...(kind !== "units" ? { users } : {}),
  };
}

export function renderExportJson(data: FkExport, kind?: ExportKind): string {
  return JSON.stringify(selected(data, kind), null, 2) + "\n";
}

export function renderExportYaml(data: FkExport, kind?: ExportKind): string {
  // lineWidth 0: long unit paths stay on one line, so a line-based diff of two exports stays readable.
  return stringify(selected(data, kind), { lineWidth: 0 });
}

/** One CSV field, quoted as RFC 4180 asks when it holds the delimiter, a quote or a line break. */
export function csvField(value: string, delimiter: CsvDelimiter = ","): string {
  if (value.includes(delimiter) || value.includes('"') || value.includes("\n") || value.includes("\r")) {
    return `"${value.replaceAll('"', '""')}"`;
  }
  return value;
}

/** RFC 4180 records (CRLF line ends, header first), preceded by a UTF-8 byte order mark. */
export function toCsv(header: string[], rows: string[][], delimiter: CsvDelimiter = ","): string {
  const line = (fields: string[]) => fields.map((f) => csvField(f, delimiter)).join(delimiter) + "\r\n";
  return UTF8_BOM + line(header) + rows.map(line).join("");
}

export const UNIT_CSV_HEADER = ["uuid", "name", "parent_uuid", "path"];
export const USER_CSV_HEADER = ["uuid", "user_id", "name", "email", "phone_number", "position_name", "position_unit_uuid", "position_unit_path"];

export function renderUnitsCsv(data: FkExport, delimiter: CsvDelimiter = ","): string {
  return toCsv(
    UNIT_CSV_HEADER,
    data.orgUnits.map((u) => [u.uuid, u.name, u.parentUuid ?? "", u.path]),
    delimiter,
  );
}

/**
 * One row per position, the user's own columns repeated on each, so a spreadsheet filter on a unit
 * shows everyone in it; a user without positions gets one row with the position columns empty.
 */
export function renderUsersCsv(data: FkExport, delimiter: CsvDelimiter = ","): string {
  const rows: string[][] = [];
  for (const u of data.users) {
    const own = [u.uuid, u.userId, u.name, u.email ?? "", u.phoneNumber ?? ""];
    if (u.positions.length === 0) rows.push([...own, "", "", ""]);
    for (const p of u.positions) rows.push([...own, p.name, p.unitUuid, p.unitPath ?? ""]);
  }
  return toCsv(USER_CSV_HEADER, rows, delimiter);
}

export interface RenderExportOptions {
  format: ExportFormat;
  /** Required for CSV; for JSON and YAML, absent means both kinds. */
  kind?: ExportKind;
  delimiter?: CsvDelimiter;
}

export function renderExport(data: FkExport, opts: RenderExportOptions): string {
  switch (opts.format) {
    case "json":
      return renderExportJson(data, opts.kind);
    case "yaml":
      return renderExportYaml(data, opts.kind);
    case "csv":
      if (opts.kind === undefined) throw new Error("a CSV export holds one kind: units or users");
      return opts.kind === "units" ? renderUnitsCsv(data, opts.delimiter) : renderUsersCsv(data, opts.delimiter);
  }
}
