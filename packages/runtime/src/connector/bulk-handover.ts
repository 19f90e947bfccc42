import { POSTGRES_PROVIDERS } from '../sources/postgres/postgres-options.js';

const POSTGRES: ReadonlySet<string> = new Set(POSTGRES_PROVIDERS);

/** The parts of a manifest that decide whether its rows can travel in bulk. */
export interface BulkHandoverInputs {
  readonly source: { readonly provider: string };
  readonly schema: {
    readonly updateStrategy: string;
    readonly entities: readonly { readonly fields: readonly { readonly pii?: boolean | undefined }[] }[];
  };
  readonly destination: { readonly writeMode: string };
  readonly governance: { readonly piiHandling: string };
}

/**
 * Whether a manifest's rows can travel in bulk (the binary or CSV hand-over) rather than as records:
 * a PostgreSQL full refresh, not merged, with no PII field to transform (fields left out under
 * `exclude` are not transformed). The connector checks it before asking the source for bulk rows; the
 * source's catalog can still send a table back to records (transformer.passesCsv: a column the
 * manifest types differently). Kept free of heavy imports: the factory reads it too (node flags).
 */
export function bulkHandoverPossible(manifest: BulkHandoverInputs): boolean {
  const transformsPii =
    manifest.governance.piiHandling !== 'exclude' &&
    manifest.schema.entities.some((e) => e.fields.some((f) => f.pii === true));
  return (
    POSTGRES.has(manifest.source.provider) &&
    manifest.schema.updateStrategy === 'full_refresh' &&
    manifest.destination.writeMode !== 'merge' &&
    !transformsPii
  );
}
