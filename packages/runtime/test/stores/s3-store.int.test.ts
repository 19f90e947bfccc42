import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import type { ObjectStore } from '../../src/stores/object-store.js';
import { S3Store, type S3StoreOptions } from '../../src/stores/s3/s3-store.js';
import { objectStoreContract } from './object-store.contract.js';

// The S3-compatible server scripts/s3-server.sh starts (moto); `npm test` exports its endpoint and
// throwaway credentials from .services/s3.env. Without them every test here fails (never skips).
const MiB = 1024 * 1024;
const bucket = `cf-test-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const stores: S3Store[] = [];
let counter = 0;

function requireEndpoint(): string {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3;
  if (!endpoint) {
    throw new Error(
      'AWS_ENDPOINT_URL_S3 is not set: run the suite with `npm test` (it starts the S3 test server), or ' +
        '`bash scripts/s3-server.sh start && set -a && source .services/s3.env && set +a` first',
    );
  }
  return endpoint;
}

function testClient(extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: requireEndpoint(),
    region: process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    ...extra,
  });
}

let admin: S3Client | undefined;
let bucketReady: Promise<void> | undefined;
/** Creates this run's bucket once (lazily, so a missing server fails each test with the message above). */
function ensureBucket(): Promise<void> {
  requireEndpoint();
  admin ??= testClient();
  const client = admin;
  bucketReady ??= client.send(new CreateBucketCommand({ Bucket: bucket })).then(() => undefined);
  return bucketReady;
}

/** A store over a fresh prefix of this run's bucket; endpoint and region come from the env defaults. */
async function openFresh(options: S3StoreOptions = {}): Promise<S3Store> {
  await ensureBucket();
  const store = new S3Store(`s3://${bucket}/run/${++counter}-${randomBytes(3).toString('hex')}`, options);
  stores.push(store);
  return store;
}

async function head(store: S3Store, key: string) {
  return (await store.s3()).send(new HeadObjectCommand({ Bucket: store.bucket, Key: store.prefix + key }));
}

afterAll(async () => {
  // Best effort: empty and drop the run's bucket (moto keeps everything in memory).
  if (bucketReady && admin) {
    try {
      await bucketReady;
      const root = new S3Store(`s3://${bucket}`, { client: admin });
      await root.delete((await root.list('')).map((o) => o.key));
      await admin.send(new DeleteBucketCommand({ Bucket: bucket }));
    } catch {
      // the server may be gone already
    }
  }
  for (const store of stores) store.close();
  admin?.destroy();
});

// With a lowered threshold the 70 MiB file of the contract goes up in 14 parts of 5 MiB.
objectStoreContract('S3Store (moto)', () => openFresh({ multipartThresholdBytes: 8 * MiB, partSizeBytes: 5 * MiB }), {
  async afterLargePutFile(store, key, size) {
    const info = await head(store as S3Store, key);
    expect(info.ContentLength).toBe(size);
    // A multipart object's ETag ends with -<part count>.
    expect(info.ETag).toMatch(new RegExp(`-${Math.ceil(size / (5 * MiB))}"$`));
  },
});

describe('S3Store', () => {
  let local: string;
  beforeAll(async () => {
    local = await mkdtemp(join(tmpdir(), 'cf-s3-store-'));
  });
  afterAll(async () => {
    await rm(local, { recursive: true, force: true });
  });

  it('normalises locations to s3://bucket/prefix/ URLs', async () => {
    await ensureBucket();
    const options = { client: admin! };
    expect(new S3Store(`s3://${bucket}`, options).url).toBe(`s3://${bucket}/`);
    expect(new S3Store(`s3://${bucket}/`, options).prefix).toBe('');
    const nested = new S3Store(`s3://${bucket}/lake/orders`, options);
    expect([nested.url, nested.bucket, nested.prefix]).toEqual([`s3://${bucket}/lake/orders/`, bucket, 'lake/orders/']);
    expect(new S3Store(`s3://${bucket}/lake/orders/`, options).url).toBe(`s3://${bucket}/lake/orders/`);
  });

  it('uses PutObject up to the threshold and a multipart upload above it', async () => {
    const store = await openFresh({ multipartThresholdBytes: 6 * MiB, partSizeBytes: 5 * MiB });
    const small = join(local, 'small.bin');
    const large = join(local, 'large.bin');
    await writeFile(small, randomBytes(6 * MiB));
    await writeFile(large, randomBytes(6 * MiB + 1));
    await store.putFile('small.bin', small);
    await store.putFile('large.bin', large);
    expect((await head(store, 'small.bin')).ETag).not.toContain('-');
    expect((await head(store, 'large.bin')).ETag).toMatch(/-2"$/);
    expect((await store.list('')).map((o) => [o.key, o.size])).toEqual([
      ['large.bin', 6 * MiB + 1],
      ['small.bin', 6 * MiB],
    ]);
  });

  it('aborts a failed multipart upload: no object and no pending upload is left', async () => {
    await ensureBucket();
    const client = testClient();
    // Fail the second part, as a dropped connection would.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { PartNumber?: number };
        if (context.commandName === 'UploadPartCommand' && input.PartNumber === 2) {
          throw Object.assign(new Error('injected part failure'), { name: 'InjectedError' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectPartFailure' },
    );
    const store = new S3Store(`s3://${bucket}/abort-${randomBytes(3).toString('hex')}`, {
      client,
      multipartThresholdBytes: 5 * MiB,
      partSizeBytes: 5 * MiB,
    });
    const source = join(local, 'abort.bin');
    await writeFile(source, randomBytes(12 * MiB));
    const failure = await store.putFile('part-0001.bin', source).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(RuntimeError);
    expect((failure as RuntimeError).code).toBe('store');
    expect((failure as RuntimeError).message).toBe(
      `${store.url}part-0001.bin: multipart upload of ${source} failed: InjectedError: injected part failure`,
    );
    expect(await store.get('part-0001.bin')).toBeUndefined();
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: store.prefix }));
    expect(uploads.Uploads ?? []).toEqual([]);
    client.destroy();
  });

  it('lists past 1000 keys and deletes them in batches of 1000', async () => {
    const store = await openFresh();
    const keys = Array.from({ length: 1005 }, (_, i) => `many/${String(i).padStart(5, '0')}.json`);
    for (let i = 0; i < keys.length; i += 25) {
      await Promise.all(keys.slice(i, i + 25).map((key) => store.put(key, '{}')));
    }
    expect((await store.list('many/')).map((o) => o.key)).toEqual(keys);
    await store.delete([...keys, 'many/missing.json']);
    expect(await store.list('')).toEqual([]);
  });

  it('reports failures as RuntimeError("store") naming the object, never the credentials', async () => {
    requireEndpoint();
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    const client = testClient({ credentials: { accessKeyId: 'AKIDCFTEST', secretAccessKey: secret } });
    const store: ObjectStore = new S3Store('s3://cf-no-such-bucket/lake', { client });
    for (const action of [
      () => store.put('a.json', '{}'),
      () => store.get('a.json'),
      () => store.putIfAbsent('a.json', '{}'),
      () => store.list(''),
    ]) {
      const error = await action().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as RuntimeError).code).toBe('store');
      expect((error as RuntimeError).message).toMatch(
        /^s3:\/\/cf-no-such-bucket\/lake\/(a\.json)?: .* failed: NoSuchBucket/,
      );
      expect((error as RuntimeError).message).not.toContain(secret);
      expect((error as RuntimeError).message).not.toContain('AKIDCFTEST');
      expect((error as RuntimeError).cause).toBeDefined();
    }
    client.destroy();
  });

  it('treats 409 ConditionalRequestConflict on putIfAbsent as a lost race', async () => {
    // Real S3 answers 409 while another conditional write to the key is in flight; moto never does.
    const conflict = Object.assign(new Error('A conflicting conditional operation is in progress'), {
      name: 'ConditionalRequestConflict',
      $metadata: { httpStatusCode: 409 },
    });
    const client = { send: () => Promise.reject(conflict) } as unknown as S3Client;
    const store = new S3Store('s3://any-bucket/lake', { client });
    expect(await store.putIfAbsent('_delta_log/00000000000000000001.json', '{}')).toBe(false);
  });
});
