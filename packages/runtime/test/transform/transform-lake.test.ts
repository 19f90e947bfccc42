import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectorManifest } from '@connector-factory/ir';
import { jsonEncoder } from '../../src/lake/formats/json/json-encoder.js';
import { LakeWriter } from '../../src/lake/lake-writer.js';
import { PlainLog } from '../../src/lake/plain/plain-log.js';
import { FileStore } from '../../src/stores/file/file-store.js';
import { createTransformer, type Transformer } from '../../src/transform/transformer.js';
import { env, manifest } from './fixtures.js';

const writers: LakeWriter[] = [];
afterEach(async () => {
  for (const w of writers.splice(0)) await w.close();
});

async function open(m: ConnectorManifest, t: Transformer) {
  const root = mkdtempSync(join(tmpdir(), 'cf-transform-lake-'));
  const store = new FileStore(root);
  const writer = await LakeWriter.open({
    store,
    log: new PlainLog(store),
    encoder: jsonEncoder,
    format: 'json',
    schema: t.schema,
    writeMode: m.destination.writeMode,
    appId: m.id,
    workDir: mkdtempSync(join(tmpdir(), 'cf-work-')),
  });
  writers.push(writer);
  return { root, writer };
}

function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const rows = (await c.runAndReadAll(sql)).getRowObjectsJS();
  c.closeSync();
  db.closeSync();
  return rows;
}

const source = (id: number, extra: Record<string, unknown> = {}) => ({
  id,
  email: `person${id}@example.com`,
  phone: `+1 (555) 123-45${id}${id}`,
  name: `Secretname${id}`,
  salary: 1000.5 + id,
  balance: 10 + id,
  birth_date: '1984-02-29',
  active: true,
  updated_at: `2025-01-0${id}T10:00:00Z`,
  ...extra,
});

describe('transformed rows in the lake', () => {
  it('excluded PII reaches neither the table nor the quarantine', async () => {
    const m = manifest({ piiHandling: 'exclude', partitionBy: ['dt'] });
    const t = createTransformer(m, 'customers', {});
    const { root, writer } = await open(m, t);
    const extractedAt = new Date('2025-02-01T00:00:00Z');
    const rows = t.apply([source(1), source(2, { active: null }), source(3)], extractedAt);
    const result = await writer.writeBatch(1, [rows], { extractedAt });
    expect(result).toMatchObject({ rowsWritten: 2, rowsQuarantined: 1 });
    const text = allText(root);
    expect(text).toContain('is not nullable but the value is null');
    for (const secret of ['person', 'Secretname', '555', '1000.5', '1984']) expect(text).not.toContain(secret);
    const read = await query(
      `SELECT id::INT AS id, _connector_version, _extracted_at::VARCHAR AS at FROM read_json_auto('${root}/dt=*/*.json') ORDER BY id`,
    );
    expect(read).toEqual([
      { id: 1, _connector_version: '1.2.3', at: expect.stringMatching(/^2025-02-01 00:00:00/) },
      { id: 3, _connector_version: '1.2.3', at: expect.stringMatching(/^2025-02-01 00:00:00/) },
    ]);
  });

  it('a merge on a hashed key applies CDC updates and deletes', async () => {
    const m = manifest({ piiHandling: 'hash', updateStrategy: 'cdc', writeMode: 'merge', mergeKeys: ['email'] });
    const t = createTransformer(m, 'customers', { env });
    const { root, writer } = await open(m, t);
    await writer.writeBatch(1, [t.apply([source(1, { _op: 'r' }), source(2, { _op: 'r' })], new Date())]);
    await writer.writeBatch(2, [
      t.apply([source(1, { _op: 'u', balance: 99 }), { email: 'person2@example.com', _op: 'd' }], new Date()),
    ]);
    const read = await query(
      `SELECT id::INT AS id, balance::INT AS balance, _op, email FROM read_json_auto('${root}/*.json')`,
    );
    expect(read).toHaveLength(1);
    expect(read[0]).toMatchObject({ id: 1, balance: 99, _op: 'u' });
    expect(read[0]!.email).toMatch(/^[0-9a-f]{64}$/);
    expect(allText(root)).not.toContain('person');
  });
});
