import pg from 'pg';

/** PG_URL of the test services (scripts/services.sh); these tests fail without it. */
export function requirePgUrl(): string {
  const url = process.env.PG_URL;
  if (!url) throw new Error('PG_URL is not set: start the services with scripts/services.sh');
  return url;
}

/** PG_URL pointed at `database`, optionally logging in as another role. */
export function databaseUrl(database: string, login?: { user: string; password: string }): string {
  const url = new URL(requirePgUrl());
  url.pathname = `/${database}`;
  if (login) {
    url.username = login.user;
    url.password = login.password;
  }
  return url.toString();
}

/** One statement on its own connection to PG_URL's database. */
export async function sql(text: string, values: unknown[] = []) {
  return sqlOn(requirePgUrl(), text, values);
}

/** One statement (or several, without values) on its own connection to `url`. */
export async function sqlOn(url: string, text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** Polls `check` every 250 ms until it gives a value (not undefined or false), or fails naming `what`. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
