import { redactSecrets } from '@connector-factory/ir';
import { SecretStore } from './secret-store.js';

/** URL schemes of the databases `create` introspects, and the prefix of their variables. */
const DATABASE_SCHEMES: Readonly<Record<string, string>> = {
  postgres: 'POSTGRES',
  postgresql: 'POSTGRES',
  pgsql: 'POSTGRES',
  mysql: 'MYSQL',
  mariadb: 'MYSQL',
};

/** What `keepConnectionSecret` did. */
export interface KeptConnection {
  /** The variable the manifest references: `${name}`. */
  readonly name: string;
  readonly reference: string;
  /** The store already held this very URL under that name. */
  readonly reused: boolean;
}

/** `postgresql://…` (or `jdbc:postgresql://…`) of a database `create` reads, else undefined. */
export function literalDatabaseUrl(connection: string): { url: string; prefix: string } | undefined {
  const url = connection.trim().replace(/^jdbc:/i, '');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase().split('+')[0];
  const prefix = scheme !== undefined ? DATABASE_SCHEMES[scheme] : undefined;
  if (prefix === undefined || url.includes('${')) return undefined;
  return { url, prefix };
}

/** A database URL written inside a sentence; it ends at white space, a quote or closing punctuation. */
const URL_IN_TEXT = /(?:jdbc:)?(?:postgres(?:ql)?|pgsql|mysql|mariadb)(?:\+\w+)?:\/\/[^\s"'<>`]+/gi;

function urlsIn(text: string): { raw: string; start: number }[] {
  return [...text.matchAll(URL_IN_TEXT)].map((match) => ({
    raw: match[0].replace(/[.,;:!?)\]}]+$/, ''),
    start: match.index,
  }));
}

/** The first literal database URL in a description, where it stands, and the rest as literalDatabaseUrl. */
export function literalDatabaseUrlIn(
  text: string,
): { url: string; prefix: string; raw: string; start: number } | undefined {
  for (const { raw, start } of urlsIn(text)) {
    const literal = literalDatabaseUrl(raw);
    if (literal !== undefined) return { ...literal, raw, start };
  }
  return undefined;
}

/**
 * `text` with the password (and credential parameters) of every URL in it shown as `***`, and any other
 * credential hidden: the IR's redactor.
 */
export function maskDatabaseUrls(text: string): string {
  return redactSecrets(text);
}

/** `POSTGRES_SHOP_CONNECTION_STRING` for …/shop; `POSTGRES_CONNECTION_STRING` without a database. */
function baseName(url: string, prefix: string): string {
  let database = '';
  try {
    database = decodeURIComponent(new URL(url).pathname.replace(/^\/+/, '').split('/')[0] ?? '');
  } catch {
    database = '';
  }
  const part = database
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return part === '' ? `${prefix}_CONNECTION_STRING` : `${prefix}_${part}_CONNECTION_STRING`;
}

/**
 * Keeps a literal database URL in the secret store and returns the variable that names it. The name
 * is per database — `POSTGRES_<DATABASE>_CONNECTION_STRING` — so connectors on one database share it
 * (a password change is one `secrets set`); when that name already holds another URL, in the store
 * or in the environment (which wins over the store), the next free `…_CONNECTION_STRING_2`, `_3`, …
 * is taken, so a second database never changes what a running connector reads.
 */
export async function keepConnectionSecret(
  url: string,
  prefix: string,
  options: { readonly home: string; readonly env: NodeJS.ProcessEnv },
): Promise<KeptConnection> {
  const store = new SecretStore({ home: options.home, env: options.env });
  const base = baseName(url, prefix);
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}_${n}`;
    const inEnv = options.env[name];
    if (inEnv !== undefined && inEnv !== '' && inEnv !== url) continue;
    const stored = store.exists() ? await store.get(name) : undefined;
    if (stored !== undefined && stored !== url) continue;
    if (stored === undefined) await store.set(name, url);
    return { name, reference: `\${${name}}`, reused: stored !== undefined };
  }
}
