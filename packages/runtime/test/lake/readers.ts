import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../../../test/readers/read_lake.py', import.meta.url));

export interface LakeDocument {
  readonly rows: Array<Record<string, unknown>>;
  readonly columns: string[];
  readonly reader: string;
  readonly files: number;
  readonly delta?: {
    version: number;
    protocol: { minReaderVersion: number; minWriterVersion: number };
    metadata: Record<string, unknown>;
  };
}

/** Reads a table with an independent reader (pyarrow, duckdb, fastavro, deltalake) in the test venv. */
export async function readLake(format: string, path: string, reader?: string): Promise<LakeDocument> {
  const python = process.env.LAKE_READER_PYTHON;
  if (!python)
    throw new Error('LAKE_READER_PYTHON is not set: run the suite with `npm test` (it prepares the readers)');
  const args = [script, '--format', format, '--path', path, ...(reader ? ['--reader', reader] : [])];
  const { stdout } = await run(python, args, { maxBuffer: 1 << 28, env: process.env });
  return JSON.parse(stdout) as LakeDocument;
}
