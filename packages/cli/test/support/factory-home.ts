import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export { untilLakeRows } from '../../../factory/test/support/lake-rows.js';
export { requirePgUrl, sql, until } from '../../../factory/test/support/live-postgres.js';

export const root = fileURLToPath(new URL('../../../../', import.meta.url));
/** The built binary (`npm run build` first). */
export const bin = join(root, 'packages/cli/bin/connector-factory.js');

export interface FactoryHomeOptions {
  /** The environment the CLI starts from; this process's unless given. */
  readonly base?: NodeJS.ProcessEnv;
  /** Gives the CLI a config folder of its own, `<work>/config` (where the secret store's key is made). */
  readonly config?: boolean;
}

/**
 * A new temporary folder `work` with the factory home `<work>/home`, acting as `ci`, and the real binary
 * run in it: `cli` waits for a command (up to 5 minutes), `serve` starts the supervisor in the background.
 */
export function factoryHome(prefix: string, options: FactoryHomeOptions = {}) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const env: NodeJS.ProcessEnv = {
    ...(options.base ?? process.env),
    ...(options.config ? { CONNECTOR_FACTORY_CONFIG: join(work, 'config') } : {}),
    CONNECTOR_FACTORY_HOME: join(work, 'home'),
    CONNECTOR_FACTORY_ACTOR: 'ci',
  };
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const result = spawnSync(process.execPath, [bin, ...args], {
      cwd: work,
      env: { ...env, ...extra },
      encoding: 'utf8',
      timeout: 300_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  /** `connector-factory serve` in the background; the function it returns stops it and waits. */
  const serve = () => {
    const child = spawn(process.execPath, [bin, 'serve'], { cwd: work, env, stdio: 'ignore' });
    return async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('close', resolve));
    };
  };
  return { work, env, cli, serve };
}

/** The HTTP status of a health URL, 0 when nothing answers within 2 s. */
export const health = (healthUrl: string) =>
  fetch(healthUrl, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.status,
    () => 0,
  );
