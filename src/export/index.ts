/** `stsorg export`: the actual FK state as JSON, YAML or CSV (pure: built from a refreshed ActualState). */
export { buildExport, EXPORT_FORMAT_VERSION, PATH_SEPARATOR } from "./model.js";
export type { ExportedPosition, ExportedUnit, ExportedUser, ExportMeta, FkExport } from "./model.js";
export {
  csvField,
  EXPORT_FORMATS,
  EXPORT_KINDS,
  renderExport,
  renderExportJson,
  renderExportYaml,
  renderUnitsCsv,
  renderUsersCsv,
  toCsv,
  UNIT_CSV_HEADER,
  USER_CSV_HEADER,
  UTF8_BOM,
} from "./format.js";
export type { CsvDelimiter, ExportFormat, ExportKind, RenderExportOptions } from "./format.js";
