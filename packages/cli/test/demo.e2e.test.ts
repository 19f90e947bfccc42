/**
 * `connector-factory demo`, started and stopped by a test the way a user does: it prints the lake
 * catching up with an embedded PostgreSQL, and Ctrl-C (SIGINT) stops the connector, the database and
 * itself cleanly. Needs no service of its own beyond what `npm ci` installs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

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
