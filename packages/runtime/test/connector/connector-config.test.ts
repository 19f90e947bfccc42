import type { ConnectorManifest } from '@connector-factory/ir';
import { describe, expect, it } from 'vitest';
import { resolveConnectorConfig } from '../../src/connector/connector-config.js';
import { runConnector } from '../../src/connector/run-connector.js';
import { RuntimeError } from '../../src/errors.js';
import { pgTestManifest } from './fixtures.js';

// A connector resolves its configuration once, at start: every variable the manifest references, the
// lake table, the PII keys, the secrets to mask and the operators' limits. What is missing is named all
// at once, by name and place, never with a value.

const quiet = { write: () => true } as unknown as NodeJS.WritableStream;

function manifest(parts: { connectionString: string; lakePath: string; pii?: 'hash' | 'encrypt' }): ConnectorManifest {
  const base = pgTestManifest('orders', {
    fields: [
      { name: 'id', type: 'number', nullable: false },
      { name: 'email', type: 'string', nullable: true, ...(parts.pii ? { pii: true } : {}) },
    ],
    strategy: { updateStrategy: 'full_refresh' },
    destination: {
      lakePath: parts.lakePath,
      format: 'parquet',
      compression: 'snappy',
      writeMode: 'overwrite',
      mergeKeys: [],
    },
    schedule: { type: 'interval', intervalSeconds: 60 },
  });
  return {
    ...base,
    source: { ...base.source, connectionString: parts.connectionString } as ConnectorManifest['source'],
    governance: { ...base.governance, piiHandling: parts.pii ?? 'mask' },
  };
}

const threeUnset = manifest({
  connectionString: 'postgresql://${CFG_TEST_USER}:${CFG_TEST_PASSWORD}@db.internal:5432/shop',
  lakePath: '${CFG_TEST_LAKE}/orders',
});
const setValue = 'Sup3r-Secr3t-Value';

describe('the resolved connector configuration', () => {
  it('names all three unset variables in one message, and no value', () => {
    const env = { CFG_TEST_OTHER: setValue };
    let error: unknown;
    try {
      resolveConnectorConfig(threeUnset, env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RuntimeError);
    const e = error as RuntimeError;
    expect(e.code).toBe('config');
    expect(e.message.split('\n')).toHaveLength(1);
    expect(e.message).toContain('3 environment variables are not set');
    expect(e.message).toContain('CFG_TEST_USER (source.connectionString)');
    expect(e.message).toContain('CFG_TEST_PASSWORD (source.connectionString)');
    expect(e.message).toContain('CFG_TEST_LAKE (destination.lakePath)');
    expect(e.message).not.toContain(setValue);
  });

  it('runConnector fails with the same one message before touching the source', async () => {
    const error = await runConnector({
      manifest: threeUnset,
      once: true,
      env: { PATH: process.env.PATH, CF_TEST_PG_URL: 'postgresql://u:p@127.0.0.1:1/x' },
      logStream: quiet,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    const message = (error as RuntimeError).message;
    for (const name of ['CFG_TEST_USER', 'CFG_TEST_PASSWORD', 'CFG_TEST_LAKE']) expect(message).toContain(name);
  });

  it('counts a missing PII key and a bad knob in the same message', () => {
    const m = manifest({ connectionString: '${CFG_TEST_URL}', lakePath: '/tmp/lake', pii: 'hash' });
    expect(() => resolveConnectorConfig(m, { CF_CHUNK_ROWS: 'lots' })).toThrow(
      /2 environment variables are not set: CFG_TEST_URL \(source\.connectionString\), CF_PII_HASH_KEY \(governance\.piiHandling is hash.*; CF_CHUNK_ROWS must be a positive whole number, not "lots"/,
    );
  });

  it('resolves the connection, the table, the keys, the secrets and the limits from the environment once', () => {
    const password = 'p@ss/w0rd';
    const m = manifest({ connectionString: '${CFG_TEST_URL}', lakePath: '${CFG_TEST_LAKE}/orders', pii: 'hash' });
    const env = {
      CFG_TEST_URL: `postgresql://app:${encodeURIComponent(password)}@db:5432/shop`,
      CFG_TEST_LAKE: 's3://bucket/lake',
      CF_PII_HASH_KEY: 'a-hash-key-of-enough-length',
      CF_CHUNK_ROWS: '500',
      CF_BATCH_ROWS: '2000',
      CF_STATE_DIR: '/var/state',
      CF_CSV_HANDOVER: 'off',
      UNRELATED: 'not-a-secret',
    };
    const config = resolveConnectorConfig(m, env);
    expect(config.connection).toBe(env.CFG_TEST_URL);
    expect(config.tablePath('orders')).toBe('s3://bucket/lake/orders');
    expect(config.keys.hash).toBeDefined();
    expect(config.secrets).toEqual(expect.arrayContaining([env.CFG_TEST_URL, password, env.CF_PII_HASH_KEY]));
    expect(config.secrets).not.toContain('not-a-secret');
    expect(config.limits).toEqual({ chunkRows: 500, batchRows: 2000, stateDir: '/var/state', csvHandover: false });
    expect(Object.keys(config.vars).sort()).toEqual(['CFG_TEST_LAKE', 'CFG_TEST_URL', 'CF_PII_HASH_KEY']);
    // The caller's own settings win over the environment.
    expect(resolveConnectorConfig(m, env, { batchRows: 7, stateDir: '/s', csvHandover: true }).limits).toEqual({
      chunkRows: 500,
      batchRows: 7,
      stateDir: '/s',
      csvHandover: false,
    });
  });
});
