/**
 * `connector-factory secrets set|list|rm` through the real, built binary (npm test builds it first):
 * values go in on stdin and never come out; the store is encrypted, its files mode 0600.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/bin/connector-factory.js');
const work = mkdtempSync(join(tmpdir(), 'cf-secrets-cli-'));
const home = join(work, 'home');
const config = join(work, 'config');
const env = {
  PATH: process.env.PATH ?? '',
  HOME: join(work, 'user'),
  XDG_CONFIG_HOME: config,
  CONNECTOR_FACTORY_HOME: home,
};
const password = 'Pa55-w0rd-never-shown';
const url = `postgresql://shop:${password}@db.example:5432/shop`;

function cli(args: string[], input?: string, extra: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: work,
    env: { ...env, ...extra },
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

// Each case spawns the binary several times; on two busy cores one spawn can take seconds.
const SLOW = 180_000;

describe('connector-factory secrets', () => {
  it(
    'sets, lists and removes values, printing names only',
    () => {
      const set = cli(['secrets', 'set', 'POSTGRES_SHOP_CONNECTION_STRING', '--value-stdin'], `${url}\n`);
      expect(set).toEqual({
        code: 0,
        stdout:
          'stored POSTGRES_SHOP_CONNECTION_STRING; manifests reference it as ${POSTGRES_SHOP_CONNECTION_STRING}\n',
        stderr: '',
      });
      const json = cli(['secrets', 'set', 'API_TOKEN', '--value-stdin', '--json'], 'tok-1');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ name: 'API_TOKEN', replaced: false });
      const again = cli(['secrets', 'set', 'API_TOKEN', '--value-stdin', '--json'], 'tok-2');
      expect(JSON.parse(again.stdout)).toMatchObject({ name: 'API_TOKEN', replaced: true });

      const listed = cli(['secrets', 'list']);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(
        /^NAME\s+SET AT\nAPI_TOKEN\s+\d{4}-\d\d-\d\dT.*\nPOSTGRES_SHOP_CONNECTION_STRING\s+\d{4}-/,
      );
      const listedJson = JSON.parse(cli(['secrets', 'list', '--json']).stdout) as { name: string; setAt: string }[];
      expect(listedJson.map((entry) => entry.name)).toEqual(['API_TOKEN', 'POSTGRES_SHOP_CONNECTION_STRING']);
      expect(Object.keys(listedJson[0]!).sort()).toEqual(['name', 'setAt']);

      // Nothing the commands printed, and nothing under the factory home, holds a value.
      for (const output of [set, json, again, listed]) {
        expect(output.stdout + output.stderr).not.toContain(password);
        expect(output.stdout + output.stderr).not.toContain('tok-2');
      }
      // The store's files, and the state store that holds the audit receipts of each change.
      for (const file of readdirSync(home)) {
        const text = readFileSync(join(home, file), 'utf8');
        expect(text).not.toContain(password);
        expect(text).not.toContain('tok-2');
        if (file.startsWith('secrets')) expect(statSync(join(home, file)).mode & 0o777).toBe(0o600);
      }
      expect(readdirSync(home)).toContain('secrets.enc');
      expect(statSync(join(config, 'connector-factory', 'secrets.key')).mode & 0o777).toBe(0o600);

      expect(cli(['secrets', 'rm', 'API_TOKEN'])).toEqual({ code: 0, stdout: 'removed API_TOKEN\n', stderr: '' });
      const gone = cli(['secrets', 'rm', 'API_TOKEN', '--json']);
      expect(gone).toEqual({
        code: 1,
        stdout: '',
        stderr: 'error: API_TOKEN is not in the secret store; see `connector-factory secrets list`\n',
      });
      expect(JSON.parse(cli(['secrets', 'rm', 'POSTGRES_SHOP_CONNECTION_STRING', '--json']).stdout)).toEqual({
        name: 'POSTGRES_SHOP_CONNECTION_STRING',
        removed: true,
      });
      expect(JSON.parse(cli(['secrets', 'list', '--json']).stdout)).toEqual([]);
    },
    SLOW,
  );

  it(
    'refuses bad input with one line and its exit status',
    () => {
      expect(cli(['secrets', 'set', 'NO_TERMINAL'], '')).toEqual({
        code: 2,
        stdout: '',
        stderr: 'error: secrets set asks for the value on a terminal: without one, pipe it in with --value-stdin\n',
      });
      expect(cli(['secrets', 'set', '9LIVES', '--value-stdin'], 'x').code).toBe(2);
      expect(cli(['secrets', 'set', 'EMPTY', '--value-stdin'], '\n')).toMatchObject({
        code: 2,
        stderr: 'error: the value of EMPTY is empty; nothing was stored\n',
      });
      expect(cli(['secrets', 'unknown']).code).toBe(2);
    },
    SLOW,
  );

  it(
    'says which key is wrong, and that a tampered store does not authenticate',
    () => {
      expect(cli(['secrets', 'set', 'TOKEN', '--value-stdin'], 'abc').code).toBe(0);
      const wrong = cli(['secrets', 'list'], undefined, { CONNECTOR_FACTORY_SECRETS_KEY: 'ab'.repeat(32) });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(
        /^error: the secret store .* was encrypted with another key \(key id [0-9a-f]+, this key is [0-9a-f]+\): set CONNECTOR_FACTORY_SECRETS_KEY or restore .* to the key it was made with\n$/,
      );
      const file = join(home, 'secrets.enc');
      const envelope = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      const tag = Buffer.from(envelope.tag!, 'base64');
      tag[0] = tag[0]! ^ 0xff;
      writeFileSync(file, JSON.stringify({ ...envelope, tag: tag.toString('base64') }));
      const tampered = cli(['secrets', 'list', '--json']);
      expect(tampered.code).toBe(1);
      expect(tampered.stdout).toBe('');
      expect(tampered.stderr).toMatch(
        /^error: the secret store .*secrets\.enc is damaged or was tampered with \(it does not authenticate\); remove it and set its secrets again\n$/,
      );
    },
    SLOW,
  );

  it(
    'hands `run` what the environment lacks from the store',
    () => {
      const manifest = JSON.parse(readFileSync(join(root, 'examples/postgres-orders-cdc.json'), 'utf8'));
      manifest.destination.lakePath = join(work, 'lake');
      writeFileSync(join(work, 'orders.json'), JSON.stringify(manifest));
      // Nothing listens on port 9: the run fails connecting, with the stored URL, its password masked.
      const stored = 'postgresql://nobody:Zz-unusable-9@127.0.0.1:9/none';
      const own = { CONNECTOR_FACTORY_HOME: join(work, 'run-home') };
      expect(cli(['secrets', 'set', 'POSTGRES_CONNECTION_STRING', '--value-stdin'], stored, own).code).toBe(0);
      const run = cli(['run', 'orders.json', '--once'], undefined, own);
      expect(run.stderr).not.toContain('is not set');
      expect(run.stderr).toContain('postgresql://nobody:***@127.0.0.1:9/none');
      expect(run.stderr).not.toContain('Zz-unusable-9');
    },
    SLOW,
  );

  it(
    'documents each command in --help',
    () => {
      for (const command of [['secrets'], ['secrets', 'set'], ['secrets', 'list'], ['secrets', 'rm']]) {
        const help = cli([...command, '--help']);
        expect(help.code).toBe(0);
        expect(help.stdout).toContain('Usage: connector-factory');
      }
      expect(cli(['secrets', 'set', '--help']).stdout).toContain('--value-stdin');
      expect(cli(['secrets', 'list', '--help']).stdout).toContain('--json');
    },
    SLOW,
  );

  it(
    'leaves an audit receipt for each change, naming the variable and never its value',
    () => {
      const own = { CONNECTOR_FACTORY_HOME: join(work, 'audit-home') };
      expect(cli(['secrets', 'set', 'SHOP_TOKEN', '--value-stdin'], 'tok-audited-123', own).code).toBe(0);
      expect(cli(['secrets', 'rm', 'SHOP_TOKEN'], undefined, own).code).toBe(0);
      expect(cli(['secrets', 'rm', 'SHOP_TOKEN'], undefined, own).code).toBe(1);
      const list = cli(['audit', 'list', '--json'], undefined, own);
      expect(list.code).toBe(0);
      const receipts = (JSON.parse(list.stdout) as { action: string; resource: string; result: string }[]).map((r) => [
        r.action,
        r.resource,
        r.result,
      ]);
      expect(receipts).toEqual(
        expect.arrayContaining([
          ['set_secret', 'SHOP_TOKEN', 'success'],
          ['remove_secret', 'SHOP_TOKEN', 'success'],
          ['remove_secret', '-', 'failure'],
        ]),
      );
      expect(list.stdout).not.toContain('tok-audited-123');
      expect(cli(['audit', 'verify'], undefined, own).code).toBe(0);
    },
    SLOW,
  );
});
