import type { ConnectorOptions, RunSummary } from '@connector-factory/runtime';

export type { ConnectorOptions, RunSummary };

// The runtime (DuckDB, the AWS SDK, database drivers) loads on first use, so commands that never run a
// connector — validate, providers, discover — start in a fraction of the time.
const runtime = () => import('@connector-factory/runtime');

/** Runs a connector from its manifest (see the runtime's runConnector). */
export async function runConnector(options: ConnectorOptions): Promise<RunSummary | undefined> {
  return (await runtime()).runConnector(options);
}

/** Decrypts `enc:v1:…` PII values with the key in CF_PII_ENCRYPTION_KEY of `env`. */
export async function decryptValues(
  values: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const { decryptColumnValues, decryptionKeyFromEnv } = await runtime();
  const { keyText, options } = decryptionKeyFromEnv(env);
  return decryptColumnValues(values, keyText, options);
}

/** Whether an error is the runtime's RuntimeError (checked by name, so the runtime need not be loaded). */
export function isRuntimeError(error: unknown): error is Error & { code: string } {
  return (
    error instanceof Error && error.name === 'RuntimeError' && typeof (error as { code?: unknown }).code === 'string'
  );
}
