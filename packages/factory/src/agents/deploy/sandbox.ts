import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, tailLines } from './run-command.js';

/** The outcome of a package's tests in the sandbox: the evidence an approver sees. */
export interface TestReport {
  readonly passed: boolean;
  readonly tests: number;
  readonly pass: number;
  readonly fail: number;
  readonly skipped: number;
  readonly durationMs: number;
  readonly timedOut: boolean;
  /** What ran, without the environment. */
  readonly command: string;
  /** The last lines of the test output (failures name their test). */
  readonly outputTail: readonly string[];
}

export interface SandboxOptions {
  /** The variables the manifest declares, with their values: the only ones the tests see. */
  readonly env: Readonly<Record<string, string>>;
  /** Folders besides the sandbox's own the tests may write (the connector's local lake). */
  readonly writable?: readonly string[];
  /** Default 5 minutes. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Node 20–22 spell the permission flag `--experimental-permission`; later versions `--permission`. */
function permissionFlag(): string {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= 23 ? '--permission' : '--experimental-permission';
}

function count(output: string, name: string): number {
  const match = new RegExp(`^# ${name} (\\d+)$`, 'm').exec(output);
  return match ? Number(match[1]) : 0;
}

/**
 * Runs a built package's compiled tests (`.test-build/tests/*.test.js`) with Node's test runner in a
 * sandbox: a separate process group in a fresh temporary folder (its HOME and TMPDIR), an environment
 * holding only PATH and the declared variables, Node's permission model allowing file writes only to
 * that folder and the given ones, and a time limit after which the whole group is killed.
 */
export async function runSandboxedTests(packageDir: string, options: SandboxOptions): Promise<TestReport> {
  const folder = await mkdtemp(join(tmpdir(), 'cf-sandbox-'));
  try {
    const testDir = join(packageDir, '.test-build', 'tests');
    const files = (await readdir(testDir).catch(() => [] as string[]))
      .filter((name) => name.endsWith('.test.js'))
      .sort()
      .map((name) => join(testDir, name));
    const timeoutMs = options.timeoutMs ?? 300_000;
    const flags = [
      permissionFlag(),
      '--allow-fs-read=*',
      `--allow-fs-write=${folder}`,
      ...(options.writable ?? []).map((dir) => `--allow-fs-write=${dir}`),
      // The runner starts a process per test file, the tests start the connector, and DuckDB is an addon.
      '--allow-child-process',
      '--allow-worker',
      '--allow-addons',
      '--test',
      '--test-reporter=tap',
    ];
    const command = `node ${flags.join(' ')} ${files.map((file) => file.slice(packageDir.length + 1)).join(' ')}`;
    if (files.length === 0) {
      return {
        passed: false,
        tests: 0,
        pass: 0,
        fail: 0,
        skipped: 0,
        durationMs: 0,
        timedOut: false,
        command,
        outputTail: [`no compiled tests in ${testDir}`],
      };
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: folder,
      TMPDIR: folder,
      NODE_ENV: 'test',
      ...(process.env.LANG !== undefined ? { LANG: process.env.LANG } : {}),
      ...options.env,
    };
    const result = await runCommand(process.execPath, [...flags, ...files], {
      cwd: folder,
      env,
      timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // A failing test may print what it was given; no value of a declared variable leaves the sandbox.
    const secrets = Object.values(options.env).filter((value) => value.length >= 4);
    const output = secrets.reduce((text, value) => text.split(value).join('***'), result.output);
    const fail = count(output, 'fail') + count(output, 'cancelled');
    const pass = count(output, 'pass');
    return {
      passed: result.code === 0 && fail === 0 && pass > 0,
      tests: count(output, 'tests'),
      pass,
      fail,
      skipped: count(output, 'skipped'),
      durationMs: result.durationMs,
      timedOut: result.timedOut,
      command,
      outputTail: tailLines(
        output
          .split('\n')
          .filter((line) => !/ExperimentalWarning|SecurityWarning|--trace-warnings/.test(line))
          .join('\n'),
        result.code === 0 ? 12 : 40,
      ),
    };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
