import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import type { ObjectStore } from '../../src/stores/object-store.js';

/** Store-specific checks the shared suite calls at the right moments. */
export interface ObjectStoreContractHooks {
  /** After the large (70 MiB) putFile, e.g. to check that S3 used a multipart upload. */
  afterLargePutFile?: (store: ObjectStore, key: string, size: number) => Promise<void>;
}

const MiB = 1024 * 1024;
const LARGE_FILE_MIB = 70;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Expects `action` to fail with RuntimeError('config'). */
async function expectConfigError(action: () => Promise<unknown>): Promise<void> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(RuntimeError);
  expect((caught as RuntimeError).code).toBe('config');
}

/**
 * The behaviour every ObjectStore must have, as one vitest `describe` block. `open` returns a store
 * over a fresh, empty root on each call (it is called before every test).
 */
export function objectStoreContract(
  name: string,
  open: () => Promise<ObjectStore>,
  hooks: ObjectStoreContractHooks = {},
): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    let local: string; // a local scratch folder for putFile sources and download targets

    beforeAll(async () => {
      local = await mkdtemp(join(tmpdir(), 'cf-store-contract-'));
    });
    afterAll(async () => {
      await rm(local, { recursive: true, force: true });
    });
    beforeEach(async () => {
      store = await open();
    });

    it('has a root URL ending with /', () => {
      expect(store.url).toMatch(/^(file|s3):\/\/.*\/$/);
    });

    it('round-trips put/get of bytes and strings, and put replaces', async () => {
      const bytes = new Uint8Array(256).map((_, i) => i);
      await store.put('bin/all-bytes.bin', bytes);
      expect(Buffer.from((await store.get('bin/all-bytes.bin'))!)).toEqual(Buffer.from(bytes));

      await store.put('text.json', '{"héllo":"wörld ✓"}');
      expect(Buffer.from((await store.get('text.json'))!).toString('utf8')).toBe('{"héllo":"wörld ✓"}');

      await store.put('text.json', 'second');
      expect(Buffer.from((await store.get('text.json'))!).toString('utf8')).toBe('second');

      await store.put('empty', new Uint8Array());
      expect((await store.get('empty'))?.length).toBe(0);
    });

    it(`publishes a ${LARGE_FILE_MIB} MiB file with putFile and downloads it intact`, async () => {
      // Every MiB differs, so parts uploaded out of order or twice would change the hash.
      const block = randomBytes(MiB);
      const source = join(local, 'large.bin');
      await writeFile(
        source,
        Buffer.concat(
          Array.from({ length: LARGE_FILE_MIB }, (_, i) => {
            const mib = Buffer.from(block);
            mib[0] = i;
            return mib;
          }),
        ),
      );
      const size = (await stat(source)).size;
      expect(size).toBe(LARGE_FILE_MIB * MiB);
      const hash = await sha256File(source);

      await store.putFile('dt=2025-01-31/part-0001.bin', source);
      await hooks.afterLargePutFile?.(store, 'dt=2025-01-31/part-0001.bin', size);

      const listed = await store.list('dt=2025-01-31/');
      expect(listed.map((o) => [o.key, o.size])).toEqual([['dt=2025-01-31/part-0001.bin', size]]);

      const target = join(local, 'large.downloaded');
      expect(await store.download('dt=2025-01-31/part-0001.bin', target)).toBe(true);
      expect((await stat(target)).size).toBe(size);
      expect(await sha256File(target)).toBe(hash);
      // The download went through a temporary file that is gone now.
      expect((await readdir(local)).sort()).toEqual(['large.bin', 'large.downloaded']);
      await rm(source);
      await rm(target);
    }, 180_000);

    it('putFile of a small file, replacing an object', async () => {
      const source = join(local, 'small.json');
      await writeFile(source, '{"a":1}\n');
      await store.put('small.json', 'old');
      await store.putFile('small.json', source);
      expect(Buffer.from((await store.get('small.json'))!).toString()).toBe('{"a":1}\n');
      await rm(source);
    });

    it('putIfAbsent creates once, then returns false and leaves the content unchanged', async () => {
      const key = '_delta_log/00000000000000000000.json';
      expect(await store.putIfAbsent(key, 'first')).toBe(true);
      expect(await store.putIfAbsent(key, 'second')).toBe(false);
      expect(await store.putIfAbsent(key, new Uint8Array([1, 2, 3]))).toBe(false);
      expect(Buffer.from((await store.get(key))!).toString()).toBe('first');
    });

    it('two concurrent putIfAbsent on one key: exactly one wins, and its content is stored', async () => {
      for (let round = 0; round < 5; round++) {
        const key = `_log/${String(round).padStart(20, '0')}.json`;
        const contents = [`writer-a-${round}`, `writer-b-${round}`];
        const results = await Promise.all(contents.map((content) => store.putIfAbsent(key, content)));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = contents[results.indexOf(true)]!;
        expect(Buffer.from((await store.get(key))!).toString()).toBe(winner);
      }
    });

    it('get and download of a missing key: undefined / false, and no local file', async () => {
      expect(await store.get('missing/key.json')).toBeUndefined();
      const target = join(local, 'missing.out');
      expect(await store.download('missing/key.json', target)).toBe(false);
      await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await readdir(local)).filter((f) => f.startsWith('.tmp-') || f.startsWith('missing'))).toEqual([]);
    });

    it('lists by prefix: sorted, relative keys, sizes, no temporary files', async () => {
      const objects: Record<string, string> = {
        'top.txt': 'top',
        'dt=2025-02-01/part-0001.parquet': '333',
        'dt=2025-01-31/part-0002.parquet': '22',
        'dt=2025-01-31/part-0001.parquet': '1',
        '_delta_log/00000000000000000000.json': '{}',
        'dt=2025-01-310/other.parquet': 'x',
      };
      for (const [key, content] of Object.entries(objects)) await store.put(key, content);
      // Failed conditional writes must not leave anything behind either.
      expect(await store.putIfAbsent('top.txt', 'again')).toBe(false);

      const all = await store.list('');
      expect(all.map((o) => o.key)).toEqual(Object.keys(objects).sort());
      for (const object of all) {
        expect(object.size).toBe(Buffer.byteLength(objects[object.key]!));
        expect(object.lastModified).toBeInstanceOf(Date);
        expect(Number.isNaN(object.lastModified.getTime())).toBe(false);
        expect(object.key).not.toMatch(/(^|\/)\.tmp-/);
      }
      expect((await store.list('dt=2025-01-31/')).map((o) => o.key)).toEqual([
        'dt=2025-01-31/part-0001.parquet',
        'dt=2025-01-31/part-0002.parquet',
      ]);
      expect((await store.list('dt=2025-01')).map((o) => o.key)).toEqual([
        'dt=2025-01-31/part-0001.parquet',
        'dt=2025-01-31/part-0002.parquet',
        'dt=2025-01-310/other.parquet',
      ]);
      expect((await store.list('dt=2025-01-31/part-0002')).map((o) => o.key)).toEqual([
        'dt=2025-01-31/part-0002.parquet',
      ]);
      expect((await store.list('_delta_log/')).map((o) => o.key)).toEqual(['_delta_log/00000000000000000000.json']);
      expect(await store.list('nothing/')).toEqual([]);
    });

    it('deletes objects and ignores missing keys', async () => {
      await store.put('a/1', '1');
      await store.put('a/2', '2');
      await store.put('b/1', '3');
      await store.delete(['a/1', 'a/missing', 'nope/nope', 'b/1']);
      expect(await store.get('a/1')).toBeUndefined();
      expect(await store.get('b/1')).toBeUndefined();
      expect((await store.list('')).map((o) => o.key)).toEqual(['a/2']);
      await store.delete([]);
      await store.delete(['a/2', 'a/2']);
      expect(await store.list('')).toEqual([]);
    });

    it('renames an object (staging → published), and says false for a missing one', async () => {
      expect(store.rename).toBeDefined();
      await store.put('_staging/t1/dt=2025-01-01/part 1.parquet', 'data');
      expect(await store.rename!('_staging/t1/dt=2025-01-01/part 1.parquet', 'dt=2025-01-01/part 1.parquet')).toBe(
        true,
      );
      expect(Buffer.from((await store.get('dt=2025-01-01/part 1.parquet'))!).toString()).toBe('data');
      expect(await store.get('_staging/t1/dt=2025-01-01/part 1.parquet')).toBeUndefined();
      expect(await store.rename!('_staging/t1/missing', 'x')).toBe(false);
      expect(await store.get('x')).toBeUndefined();
    });

    it('rejects keys that escape the root', async () => {
      for (const key of ['../outside.json', 'a/../../outside.json', '/etc/outside.json']) {
        await expectConfigError(() => store.put(key, 'x'));
        await expectConfigError(() => store.putIfAbsent(key, 'x'));
        await expectConfigError(() => store.get(key));
        await expectConfigError(() => store.download(key, join(local, 'escaped')));
        await expectConfigError(() => store.delete([key]));
      }
      const source = join(local, 'escape-source');
      await writeFile(source, 'x');
      await expectConfigError(() => store.putFile('../outside.json', source));
      await rm(source);
      await expectConfigError(() => store.list('../'));
      expect(await store.list('')).toEqual([]);
    });
  });
}
