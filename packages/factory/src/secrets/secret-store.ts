import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, link, mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { configHome } from '../audit/audit-signer.js';
import { FactoryError } from '../errors.js';
import { factoryHome } from '../home.js';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * The local secret store: named values (connection strings, tokens) that manifests reference as
 * `${NAME}`, kept in `<factory home>/secrets.enc`, encrypted at rest with AES-256-GCM. The key comes
 * from `CONNECTOR_FACTORY_SECRETS_KEY` (64 hex digits or base64 of 32 bytes), else from a key file in
 * the OS user's config folder (`secrets.key` in `CONNECTOR_FACTORY_CONFIG`, else
 * `$XDG_CONFIG_HOME/connector-factory`, else `~/.config/connector-factory`), created on first write
 * with mode 0600 — never under the
 * factory home, so a copy of the state folder alone opens nothing. Values never appear in errors.
 */

/** The environment variable that holds the key itself. */
export const SECRETS_KEY_VARIABLE = 'CONNECTOR_FACTORY_SECRETS_KEY';
const FORMAT = 'connector-factory-secrets';
const VERSION = 1;
const CIPHER = 'aes-256-gcm';
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 30_000;

export interface SecretEntry {
  readonly name: string;
  /** ISO time of the last `set`. */
  readonly setAt: string;
}

interface Contents {
  readonly secrets: Record<string, { value: string; setAt: string }>;
}

interface Envelope {
  readonly format: string;
  readonly version: number;
  readonly cipher: string;
  readonly keyId: string;
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
}

export interface SecretStoreOptions {
  /** The factory home (default CONNECTOR_FACTORY_HOME, else ./.connector-factory). */
  readonly home?: string;
  /** Where the key and the config folder are looked up (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/** `<home>/secrets.enc`. */
export function secretsFile(home: string): string {
  return join(home, 'secrets.enc');
}

/** `secrets.key` in the user's config folder (`CONNECTOR_FACTORY_CONFIG`, else `$XDG_CONFIG_HOME/connector-factory`, else `~/.config/connector-factory`). */
export function secretsKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(configHome(env), 'secrets.key');
}

/** Throws `usage` unless `name` can be an environment variable the factory does not use itself. */
export function checkSecretName(name: string): void {
  if (!NAME.test(name)) {
    throw new FactoryError(
      'usage',
      `"${name}" is not a variable name: letters, digits and _ only, not starting with a digit (e.g. POSTGRES_CONNECTION_STRING)`,
    );
  }
  if (name.toUpperCase().startsWith('CONNECTOR_FACTORY_')) {
    throw new FactoryError(
      'usage',
      `${name}: CONNECTOR_FACTORY_* variables configure the factory itself; they are not kept in the secret store`,
    );
  }
}

/** The one line that tells a user how to provide a variable nothing provides. */
export function provideVariableHint(name: string): string {
  return `run \`export ${name}=…\` or \`connector-factory secrets set ${name}\``;
}

/** `NAME is …: run …` for one name, a list with both commands per name for several. */
export function missingVariablesHint(names: readonly string[]): string {
  return names.map(provideVariableHint).join('; ');
}

/** The names of the `${NAME}` references in a text. */
export function referencedVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => match[1]!))];
}

const keyIdOf = (key: Buffer) =>
  createHmac('sha256', key).update('connector-factory secrets key id').digest('hex').slice(0, 16);

function parseKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
    if (bytes.length === 32) return bytes;
  }
  return undefined;
}

const isInside = (child: string, parent: string) => {
  const path = relative(parent, child);
  return path === '' || (!path.startsWith('..') && !isAbsolute(path));
};

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException).code;

/** The secret store of one factory home. Reads and writes the whole (small) file each time. */
export class SecretStore {
  readonly file: string;
  readonly keyFile: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly home: string;

  constructor(options: SecretStoreOptions = {}) {
    this.env = options.env ?? process.env;
    this.home = resolve(options.home ?? factoryHome(this.env));
    this.file = secretsFile(this.home);
    this.keyFile = secretsKeyFile(this.env);
  }

  /** True when the store file exists (reading an absent store needs no key). */
  exists(): boolean {
    return existsSync(this.file);
  }

  /** Names and when each was set, sorted by name; never values. */
  async list(): Promise<SecretEntry[]> {
    const { secrets } = await this.read();
    return Object.keys(secrets)
      .sort()
      .map((name) => ({ name, setAt: secrets[name]!.setAt }));
  }

  /** The value of `name`, or undefined. */
  async get(name: string): Promise<string | undefined> {
    const { secrets } = await this.read();
    return Object.hasOwn(secrets, name) ? secrets[name]!.value : undefined;
  }

  /** The values of those of `names` the store holds. */
  async getMany(names: readonly string[]): Promise<Record<string, string>> {
    const { secrets } = await this.read();
    const found: Record<string, string> = {};
    for (const name of names) if (Object.hasOwn(secrets, name)) found[name] = secrets[name]!.value;
    return found;
  }

  /** Sets (or replaces) `name`; creates the store, and the key file, on first use. */
  async set(name: string, value: string): Promise<{ readonly replaced: boolean; readonly setAt: string }> {
    checkSecretName(name);
    if (value === '') throw new FactoryError('usage', `the value of ${name} is empty; nothing was stored`);
    if (value.includes('\0')) throw new FactoryError('usage', `the value of ${name} contains a NUL character`);
    return this.update(async (secrets) => {
      const replaced = Object.hasOwn(secrets, name);
      const setAt = new Date().toISOString();
      secrets[name] = { value, setAt };
      return { replaced, setAt };
    });
  }

  /** Removes `name`; false when the store does not hold it. */
  async remove(name: string): Promise<boolean> {
    if (!this.exists()) return false;
    return this.update(async (secrets) => {
      if (!Object.hasOwn(secrets, name)) return false;
      delete secrets[name];
      return true;
    });
  }

  private async update<T>(change: (secrets: Contents['secrets']) => Promise<T>): Promise<T> {
    await mkdir(this.home, { recursive: true });
    // A new key only for a new store: an existing one without its key stays unreadable, not replaced.
    const key = await this.key(!this.exists());
    const release = await this.lock();
    try {
      const contents = this.exists() ? await this.read(key) : { secrets: Object.create(null) as Contents['secrets'] };
      const result = await change(contents.secrets);
      await this.write(contents, key);
      return result;
    } finally {
      await release();
    }
  }

  private async read(known?: Buffer): Promise<Contents> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return { secrets: Object.create(null) as Contents['secrets'] };
      throw new FactoryError('invalid_input', `cannot read the secret store ${this.file}: ${codeOf(error) ?? 'error'}`);
    }
    const damaged = () =>
      new FactoryError(
        'invalid_input',
        `the secret store ${this.file} is damaged or was tampered with (it does not authenticate); remove it and set its secrets again`,
      );
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      throw damaged();
    }
    if (
      typeof envelope !== 'object' ||
      envelope === null ||
      envelope.format !== FORMAT ||
      envelope.version !== VERSION ||
      envelope.cipher !== CIPHER ||
      ![envelope.keyId, envelope.iv, envelope.tag, envelope.ciphertext].every((part) => typeof part === 'string')
    ) {
      throw damaged();
    }
    const key = known ?? (await this.key(false));
    if (envelope.keyId !== keyIdOf(key)) {
      throw new FactoryError(
        'invalid_input',
        `the secret store ${this.file} was encrypted with another key (key id ${envelope.keyId}, this key is ${keyIdOf(key)}): ` +
          `set ${SECRETS_KEY_VARIABLE} or restore ${this.keyFile} to the key it was made with`,
      );
    }
    let plain: Buffer;
    try {
      const decipher = createDecipheriv(CIPHER, key, Buffer.from(envelope.iv, 'base64'));
      decipher.setAAD(Buffer.from(`${FORMAT}/${VERSION}/${envelope.keyId}`));
      decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
      plain = Buffer.concat([decipher.update(Buffer.from(envelope.ciphertext, 'base64')), decipher.final()]);
    } catch {
      throw damaged();
    }
    try {
      const parsed = JSON.parse(plain.toString('utf8')) as Contents;
      const secrets = Object.create(null) as Contents['secrets'];
      for (const [name, entry] of Object.entries(parsed.secrets)) secrets[name] = entry;
      return { secrets };
    } catch {
      throw damaged();
    }
  }

  private async write(contents: Contents, key: Buffer): Promise<void> {
    const iv = randomBytes(12);
    const keyId = keyIdOf(key);
    const cipher = createCipheriv(CIPHER, key, iv);
    cipher.setAAD(Buffer.from(`${FORMAT}/${VERSION}/${keyId}`));
    const ciphertext = Buffer.concat([
      cipher.update(JSON.stringify({ secrets: contents.secrets }), 'utf8'),
      cipher.final(),
    ]);
    const envelope: Envelope = {
      format: FORMAT,
      version: VERSION,
      cipher: CIPHER,
      keyId,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
    const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeNew(temp, `${JSON.stringify(envelope)}\n`);
      await rename(temp, this.file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** The key: from the environment, else the key file (created when `create` and absent). */
  private async key(create: boolean): Promise<Buffer> {
    const fromEnv = this.env[SECRETS_KEY_VARIABLE];
    if (fromEnv !== undefined && fromEnv !== '') {
      const key = parseKey(fromEnv);
      if (key === undefined) {
        throw new FactoryError(
          'invalid_input',
          `${SECRETS_KEY_VARIABLE} is not a 256-bit key: give 64 hex digits (e.g. from \`openssl rand -hex 32\`) or 32 bytes in base64`,
        );
      }
      return key;
    }
    if (isInside(this.keyFile, this.home)) {
      throw new FactoryError(
        'invalid_input',
        `the secrets key file ${this.keyFile} would lie inside the factory home ${this.home}: point XDG_CONFIG_HOME elsewhere or set ${SECRETS_KEY_VARIABLE}`,
      );
    }
    const existing = await this.readKeyFile();
    if (existing !== undefined) return existing;
    if (!create) {
      throw new FactoryError(
        'invalid_input',
        `the secret store ${this.file} exists but its key does not: set ${SECRETS_KEY_VARIABLE} or restore ${this.keyFile}`,
      );
    }
    await mkdir(dirname(this.keyFile), { recursive: true, mode: 0o700 });
    const temp = `${this.keyFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeNew(temp, `${randomBytes(32).toString('hex')}\n`);
      // link fails when another process made the key first: then that key is the one.
      await link(temp, this.keyFile).catch((error: unknown) => {
        if (codeOf(error) !== 'EEXIST') throw error;
      });
    } finally {
      await rm(temp, { force: true });
    }
    const made = await this.readKeyFile();
    if (made === undefined) throw new FactoryError('internal', `cannot create the secrets key file ${this.keyFile}`);
    return made;
  }

  private async readKeyFile(): Promise<Buffer | undefined> {
    let text: string;
    try {
      const info = await stat(this.keyFile);
      if ((info.mode & 0o077) !== 0) {
        throw new FactoryError(
          'invalid_input',
          `the secrets key file ${this.keyFile} is readable by others (mode ${(info.mode & 0o777).toString(8)}): run \`chmod 600 ${this.keyFile}\``,
        );
      }
      text = await readFile(this.keyFile, 'utf8');
    } catch (error) {
      if (error instanceof FactoryError) throw error;
      if (codeOf(error) === 'ENOENT') return undefined;
      throw new FactoryError(
        'invalid_input',
        `cannot read the secrets key file ${this.keyFile}: ${codeOf(error) ?? 'error'}`,
      );
    }
    const key = parseKey(text);
    if (key === undefined) {
      throw new FactoryError(
        'invalid_input',
        `the secrets key file ${this.keyFile} does not hold a 256-bit key (64 hex digits)`,
      );
    }
    return key;
  }

  /** An exclusive lock on the store for one read-change-write; a lock older than 30 s is taken over. */
  private async lock(): Promise<() => Promise<void>> {
    const lockFile = `${this.file}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lockFile, 'wx', 0o600);
        await handle.close();
        return () => unlink(lockFile).catch(() => undefined);
      } catch (error) {
        if (codeOf(error) !== 'EEXIST') throw error;
        const age = await stat(lockFile).then(
          (info) => Date.now() - info.mtimeMs,
          () => 0,
        );
        if (age > STALE_LOCK_MS) await unlink(lockFile).catch(() => undefined);
        else if (Date.now() > deadline) {
          throw new FactoryError('internal', `the secret store is locked by another command (${lockFile})`);
        } else await delay(50);
      }
    }
  }
}

/** Writes a new file with mode 0600 (whatever the umask) and flushes it. */
async function writeNew(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(path, 0o600);
}

/**
 * `env` with the values the secret store holds for those of `names` that `env` lacks (unset or empty).
 * The environment wins: a variable set in the process is used as it is, the store is read only when
 * some name is missing, and an absent store is no error (the caller reports what is still missing).
 */
export async function withStoredSecrets(
  env: NodeJS.ProcessEnv,
  names: readonly string[],
  options: { readonly home?: string } = {},
): Promise<NodeJS.ProcessEnv> {
  const missing = names.filter((name) => env[name] === undefined || env[name] === '');
  if (missing.length === 0) return env;
  const store = new SecretStore({ env, ...(options.home !== undefined ? { home: options.home } : {}) });
  if (!store.exists()) return env;
  return { ...env, ...(await store.getMany(missing)) };
}
