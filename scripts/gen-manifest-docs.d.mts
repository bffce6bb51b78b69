/** Renders the manifest reference (Markdown) for a JSON Schema; `schemaName` is the path named in its header. */
export function renderManifestDocs(schema: unknown, schemaName: string): string;
