import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import { FileStore } from '../../src/stores/file/file-store.js';
import { openStore } from '../../src/stores/open-store.js';
import { S3Store } from '../../src/stores/s3/s3-store.js';
import { objectStoreContract } from './object-store.contract.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function freshRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'cf-file-store-'));
  roots.push(root);
  return root;
}

objectStoreContract('FileStore', async () => new FileStore(join(await freshRoot(), 'table')));

describe('openStore', () => {
  it('opens plain paths and file:// URLs as FileStore', async () => {
    const root = await freshRoot();
    const plain = openStore(root);
    expect(plain).toBeInstanceOf(FileStore);
    expect(plain.url).toBe(`${pathToFileURL(root).href}/`);
    const url = openStore(pathToFileURL(join(root, 'lake')).href);
    expect(url).toBeInstanceOf(FileStore);
    expect(url.url).toBe(`${pathToFileURL(join(root, 'lake')).href}/`);
    expect(openStore('relative/lake')).toBeInstanceOf(FileStore);
  });

  it('opens s3:// locations as S3Store (no request is made)', () => {
    const store = openStore('s3://my-bucket/lake/orders', { endpoint: 'http://127.0.0.1:9', region: 'eu-west-1' });
    expect(store).toBeInstanceOf(S3Store);
    expect(store.url).toBe('s3://my-bucket/lake/orders/');
    (store as S3Store).close();
  });

  it('rejects other schemes and malformed S3 locations as config errors', () => {
    for (const location of [
      'gs://bucket/x',
      'https://example.com/x',
      's3a://bucket/x',
      's3://',
      's3://Bad_Bucket/x',
      's3://bucket/a/../b',
    ]) {
      let caught: unknown;
      try {
        openStore(location);
      } catch (error) {
        caught = error;
      }
      expect(caught, location).toBeInstanceOf(RuntimeError);
      expect((caught as RuntimeError).code, location).toBe('config');
    }
  });
});
