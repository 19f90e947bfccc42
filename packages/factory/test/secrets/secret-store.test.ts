import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FactoryError, SecretStore, keepConnectionSecret, secretsKeyFile, withStoredSecrets } from '../../src/index.js';

let dir: string;
let home: string;
let env: NodeJS.ProcessEnv;
const secret = 'postgresql://shop:s3cr3t-P4ss@db.example:5432/shop';

const failure = async (work: () => Promise<unknown>): Promise<FactoryError> => {
  try {
    await work();
  } catch (error) {
    if (error instanceof FactoryError) return error;
    throw error;
  }
  throw new Error('expected a FactoryError');
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-secrets-'));
  home = join(dir, 'home');
  env = { HOME: join(dir, 'user'), XDG_CONFIG_HOME: join(dir, 'config') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SecretStore', () => {
  it('round-trips values, encrypted at rest, in files of mode 0600', async () => {
    const store = new SecretStore({ home, env });
    expect(store.exists()).toBe(false);
    expect(await store.set('POSTGRES_SHOP_CONNECTION_STRING', secret)).toMatchObject({ replaced: false });
    expect(await store.set('API_TOKEN', 'tok-123')).toMatchObject({ replaced: false });
    expect(await store.set('API_TOKEN', 'tok-456')).toMatchObject({ replaced: true });

    const reopened = new SecretStore({ home, env });
    expect(await reopened.get('POSTGRES_SHOP_CONNECTION_STRING')).toBe(secret);
    expect(await reopened.get('API_TOKEN')).toBe('tok-456');
    expect(await reopened.get('MISSING')).toBeUndefined();
    expect(await reopened.get('__proto__')).toBeUndefined();

    const onDisk = readFileSync(store.file, 'utf8');
    expect(onDisk).not.toContain('s3cr3t');
    expect(onDisk).not.toContain('tok-456');
    expect(onDisk).not.toContain('API_TOKEN');
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    // The key lives in the user's config folder, not under the factory home.
    expect(store.keyFile).toBe(join(dir, 'config', 'connector-factory', 'secrets.key'));
    expect(statSync(store.keyFile).mode & 0o777).toBe(0o600);

    expect(await reopened.remove('API_TOKEN')).toBe(true);
    expect(await reopened.remove('API_TOKEN')).toBe(false);
    expect(await reopened.get('API_TOKEN')).toBeUndefined();
  });

  it('lists names and times, never values', async () => {
    const store = new SecretStore({ home, env });
    await store.set('B_TOKEN', 'value-b');
    await store.set('A_URL', secret);
    const listed = await store.list();
    expect(listed.map((entry) => entry.name)).toEqual(['A_URL', 'B_TOKEN']);
    expect(listed.every((entry) => !Number.isNaN(Date.parse(entry.setAt)))).toBe(true);
    expect(JSON.stringify(listed)).not.toContain('value-b');
    expect(JSON.stringify(listed)).not.toContain('s3cr3t');
  });

  it('takes the key from CONNECTOR_FACTORY_SECRETS_KEY and writes no key file then', async () => {
    const key = randomBytes(32).toString('hex');
    const store = new SecretStore({ home, env: { ...env, CONNECTOR_FACTORY_SECRETS_KEY: key } });
    await store.set('TOKEN', 'abc');
    expect(() => statSync(secretsKeyFile(env))).toThrow();
    const base64 = Buffer.from(key, 'hex').toString('base64');
    expect(await new SecretStore({ home, env: { ...env, CONNECTOR_FACTORY_SECRETS_KEY: base64 } }).get('TOKEN')).toBe(
      'abc',
    );
    const short = await failure(() =>
      new SecretStore({ home, env: { ...env, CONNECTOR_FACTORY_SECRETS_KEY: 'hunter2' } }).get('TOKEN'),
    );
    expect(short.message).toBe(
      'CONNECTOR_FACTORY_SECRETS_KEY is not a 256-bit key: give 64 hex digits (e.g. from `openssl rand -hex 32`) or 32 bytes in base64',
    );
    expect(short.message).not.toContain('hunter2');
  });

  it('says so in one line when the key is another one', async () => {
    await new SecretStore({ home, env }).set('TOKEN', 'abc');
    const other = { ...env, CONNECTOR_FACTORY_SECRETS_KEY: randomBytes(32).toString('hex') };
    const error = await failure(() => new SecretStore({ home, env: other }).list());
    expect(error.code).toBe('invalid_input');
    expect(error.message).toMatch(
      /^the secret store .*secrets\.enc was encrypted with another key \(key id [0-9a-f]{16}, this key is [0-9a-f]{16}\): set CONNECTOR_FACTORY_SECRETS_KEY or restore .*secrets\.key to the key it was made with$/,
    );
    // A lost key file is the same story: no new key is made for an existing store on a read.
    rmSync(secretsKeyFile(env));
    const lost = await failure(() => new SecretStore({ home, env }).get('TOKEN'));
    expect(lost.message).toMatch(/exists but its key does not: set CONNECTOR_FACTORY_SECRETS_KEY or restore /);
    const overwrite = await failure(() => new SecretStore({ home, env }).set('OTHER', 'x'));
    expect(overwrite.message).toMatch(/exists but its key does not/);
    expect(() => statSync(secretsKeyFile(env))).toThrow();
  });

  it('refuses a tampered or damaged file in one line', async () => {
    const store = new SecretStore({ home, env });
    await store.set('TOKEN', 'abc');
    const envelope = JSON.parse(readFileSync(store.file, 'utf8')) as Record<string, string>;
    const bytes = Buffer.from(envelope.ciphertext!, 'base64');
    bytes[0] = bytes[0]! ^ 1;
    writeFileSync(store.file, JSON.stringify({ ...envelope, ciphertext: bytes.toString('base64') }));
    const flipped = await failure(() => new SecretStore({ home, env }).get('TOKEN'));
    expect(flipped.message).toMatch(
      /^the secret store .*secrets\.enc is damaged or was tampered with \(it does not authenticate\); remove it and set its secrets again$/,
    );
    writeFileSync(store.file, 'not json');
    expect((await failure(() => new SecretStore({ home, env }).list())).message).toContain(
      'is damaged or was tampered',
    );
  });

  it('refuses a key file others can read, bad names and empty values', async () => {
    const store = new SecretStore({ home, env });
    await store.set('TOKEN', 'abc');
    chmodSync(store.keyFile, 0o644);
    expect((await failure(() => new SecretStore({ home, env }).get('TOKEN'))).message).toMatch(
      /secrets\.key is readable by others \(mode 644\): run `chmod 600 /,
    );
    chmodSync(store.keyFile, 0o600);
    expect((await failure(() => store.set('1BAD', 'x'))).code).toBe('usage');
    expect((await failure(() => store.set('CONNECTOR_FACTORY_SECRETS_KEY', 'x'))).code).toBe('usage');
    expect((await failure(() => store.set('EMPTY', ''))).message).toBe(
      'the value of EMPTY is empty; nothing was stored',
    );
  });

  it('never puts the key file under the factory home', async () => {
    const inside = { HOME: join(dir, 'user'), XDG_CONFIG_HOME: join(home, 'config') };
    const error = await failure(() => new SecretStore({ home, env: inside }).set('TOKEN', 'abc'));
    expect(error.message).toMatch(/would lie inside the factory home/);
  });
});

describe('withStoredSecrets', () => {
  it('fills what the environment lacks from the store; the environment wins', async () => {
    await new SecretStore({ home, env }).set('A', 'from-store');
    await new SecretStore({ home, env }).set('B', 'from-store');
    const resolved = await withStoredSecrets({ ...env, B: 'from-env', C: '' }, ['A', 'B', 'C'], { home });
    expect(resolved).toMatchObject({ A: 'from-store', B: 'from-env', C: '' });
  });

  it('needs no key when the environment has everything or there is no store', async () => {
    const broken = { ...env, CONNECTOR_FACTORY_SECRETS_KEY: 'not-a-key' };
    expect(await withStoredSecrets({ ...broken, A: '1' }, ['A'], { home })).toMatchObject({ A: '1' });
    expect((await withStoredSecrets(broken, ['A'], { home }))['A']).toBeUndefined();
  });
});

describe('keepConnectionSecret', () => {
  it('names the URL after its database and never overwrites another URL', async () => {
    const first = await keepConnectionSecret(secret, 'POSTGRES', { home, env });
    expect(first).toEqual({
      name: 'POSTGRES_SHOP_CONNECTION_STRING',
      reference: '${POSTGRES_SHOP_CONNECTION_STRING}',
      reused: false,
    });
    expect(await keepConnectionSecret(secret, 'POSTGRES', { home, env })).toMatchObject({ reused: true });
    const other = 'postgresql://shop:other@replica.example:5432/shop';
    expect((await keepConnectionSecret(other, 'POSTGRES', { home, env })).name).toBe(
      'POSTGRES_SHOP_CONNECTION_STRING_2',
    );
    // A variable of that name in the environment would win over the store: another name is taken.
    const shadowed = { ...env, POSTGRES_SALES_DB_CONNECTION_STRING: 'postgresql://elsewhere/sales-db' };
    const sales = await keepConnectionSecret('postgresql://u:p@h/sales-db', 'POSTGRES', { home, env: shadowed });
    expect(sales.name).toBe('POSTGRES_SALES_DB_CONNECTION_STRING_2');
    expect(await keepConnectionSecret('postgresql://u:p@h', 'POSTGRES', { home, env })).toMatchObject({
      name: 'POSTGRES_CONNECTION_STRING',
    });
    const store = new SecretStore({ home, env });
    expect(await store.get('POSTGRES_SHOP_CONNECTION_STRING')).toBe(secret);
    expect(await store.get('POSTGRES_SHOP_CONNECTION_STRING_2')).toBe(other);
  });
});
