import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { formatProblem, validateManifest, type ConnectorManifest } from '@connector-factory/ir';
import { FactoryError } from '../../errors.js';
import { BUILD_OUTPUT_DIRS, packageDigest } from './package-digest.js';
import { runCommand, tailLines } from './run-command.js';

/** One step of a build or a deploy, with how long it took: what `create` and `deploy` print. */
export interface StepReport {
  readonly step: string;
  readonly ok: boolean;
  readonly durationMs: number;
  /** What happened, in a few words ("reused the build of sha256:…", "12 passed"). */
  readonly detail?: string;
}

export type ProgressListener = (event: {
  readonly step: string;
  readonly state: 'start' | 'done' | 'failed';
  readonly report?: StepReport;
}) => void;

export interface BuiltPackage {
  /** The build: a copy of the package with node_modules, dist and compiled tests, kept for rollbacks. */
  readonly dir: string;
  readonly manifest: ConnectorManifest;
  readonly packageDigest: string;
  readonly manifestDigest: string;
  readonly steps: readonly StepReport[];
  /** True when an earlier build of the same digest was reused. */
  readonly reused: boolean;
}

export interface BuildOptions {
  /** Builds go under `<home>/packages/<connectorId>/<version>-<digest>`. */
  readonly home: string;
  /** Per command. Default 10 minutes. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly progress?: ProgressListener;
}

const BUILD_RECORD = 'build.json';

/** Reads and validates a package's manifest.json; every problem is listed in the error. */
export async function readPackageManifest(packageDir: string): Promise<{ manifest: ConnectorManifest; bytes: Buffer }> {
  const path = join(packageDir, 'manifest.json');
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new FactoryError(
      'invalid_input',
      error.code === 'ENOENT'
        ? `${packageDir} is not a connector package: it has no manifest.json (make one with \`connector-factory generate\`)`
        : `${path}: ${error.message}`,
    );
  });
  let document: unknown;
  try {
    document = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new FactoryError('invalid_input', `${path}: not JSON (${(error as Error).message})`);
  }
  const result = validateManifest(document);
  if (!result.ok) {
    const errors = result.problems.filter((p) => p.severity === 'error');
    throw new FactoryError('invalid_input', `${path} is not a valid manifest`, errors.map(formatProblem));
  }
  return { manifest: result.manifest, bytes };
}

/** Where the bundle goes in a build; the supervisor runs it when it is there. */
export const BUNDLE_ENTRY = 'bundle/connector.js';

/**
 * Modules that stay in node_modules: native bindings and packages that load files next to themselves
 * (DuckDB's addon, the zstd wasm), and pg's optional native driver.
 */
const BUNDLE_EXTERNAL = ['@duckdb/*', '@bokuweb/zstd-wasm', 'pg-native'];

/**
 * Bundles the compiled connector (`dist/index.js` and every pure-JS dependency) into one ES module
 * with esbuild; the native and file-loading modules above stay external. CommonJS dependencies get a
 * real `require` through createRequire.
 */
async function bundleStep(dir: string, connectorId: string, options: BuildOptions): Promise<StepReport> {
  options.progress?.({ step: 'bundle', state: 'start' });
  const started = Date.now();
  const { build } = await import('esbuild');
  try {
    const result = await build({
      absWorkingDir: dir,
      entryPoints: ['dist/index.js'],
      outfile: BUNDLE_ENTRY,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: BUNDLE_EXTERNAL,
      banner: {
        js: "import { createRequire as __connectorRequire } from 'node:module'; const require = __connectorRequire(import.meta.url);",
      },
      legalComments: 'none',
      logLevel: 'silent',
      metafile: true,
    });
    const bytes = Object.values(result.metafile.outputs).reduce((total, output) => total + output.bytes, 0);
    const report: StepReport = {
      step: 'bundle',
      ok: true,
      durationMs: Date.now() - started,
      detail: `${BUNDLE_ENTRY}, ${(bytes / 1024 / 1024).toFixed(1)} MB`,
    };
    options.progress?.({ step: 'bundle', state: 'done', report });
    return report;
  } catch (error) {
    const report: StepReport = {
      step: 'bundle',
      ok: false,
      durationMs: Date.now() - started,
      detail: 'esbuild failed',
    };
    options.progress?.({ step: 'bundle', state: 'failed', report });
    const errors =
      (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ?? [];
    throw new FactoryError(
      'build_failed',
      `${connectorId}: bundling dist/index.js failed; regenerate the package with \`connector-factory generate\` and report the template problem`,
      errors.slice(0, 10).map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text)),
    );
  }
}

/** npm's own variables (from an `npm run` that started us) would leak our settings into the package's npm. */
function buildEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

/**
 * Builds a connector package for deployment: copies it (the user's folder is never touched), installs
 * its dependencies (`npm ci` with a lockfile, else `npm install`), typechecks and compiles it (`npm run
 * build`, strict tsc), compiles its tests and bundles it (esbuild, native modules external). The build is kept under the home folder by version and
 * digest, so the same package is built once and a rollback has its previous build at hand.
 */
export async function buildPackage(packageDir: string, options: BuildOptions): Promise<BuiltPackage> {
  const source = resolve(packageDir);
  const { manifest, bytes } = await readPackageManifest(source);
  const manifestDigest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const digest = await packageDigest(source);
  const parent = join(options.home, 'packages', manifest.id);
  const target = join(parent, `${manifest.version}-${digest.slice('sha256:'.length, 'sha256:'.length + 12)}`);

  const previous = await readFile(join(target, BUILD_RECORD), 'utf8').catch(() => undefined);
  if (previous !== undefined) {
    const record = JSON.parse(previous) as { packageDigest: string; steps: StepReport[] };
    if (record.packageDigest === digest) {
      const report: StepReport = {
        step: 'build',
        ok: true,
        durationMs: 0,
        detail: `reused the build of ${digest.slice(0, 19)}…`,
      };
      options.progress?.({ step: 'build', state: 'done', report });
      return { dir: target, manifest, packageDigest: digest, manifestDigest, steps: [report], reused: true };
    }
  }

  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, `.${basename(target)}.building-`));
  const steps: StepReport[] = [];
  const timeoutMs = options.timeoutMs ?? 600_000;
  const env = buildEnv();
  try {
    await cp(source, staging, {
      recursive: true,
      filter: (path) => path === source || !BUILD_OUTPUT_DIRS.has(basename(path)),
    });
    const hasLock = await stat(join(staging, 'package-lock.json')).then(
      () => true,
      () => false,
    );
    const commands: [string, string[]][] = [
      ['install', [hasLock ? 'ci' : 'install', '--no-audit', '--no-fund', '--loglevel=error']],
      ['typecheck', ['run', 'build']],
      ['compile tests', ['run', 'pretest']],
    ];
    for (const [step, args] of commands) {
      options.progress?.({ step, state: 'start' });
      const result = await runCommand('npm', args, {
        cwd: staging,
        env,
        timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const ok = result.code === 0;
      const report: StepReport = {
        step,
        ok,
        durationMs: result.durationMs,
        ...(ok
          ? {}
          : { detail: result.timedOut ? `timed out after ${timeoutMs} ms` : `exit ${result.code ?? result.signal}` }),
      };
      steps.push(report);
      options.progress?.({ step, state: ok ? 'done' : 'failed', report });
      if (!ok) {
        throw new FactoryError(
          'build_failed',
          `${manifest.id}: \`npm ${args.join(' ')}\` failed (${report.detail}); if the package was generated, regenerate it with \`connector-factory generate\` and report the template problem`,
          tailLines(result.output, 15),
        );
      }
    }
    steps.push(await bundleStep(staging, manifest.id, options));
    await writeFile(
      join(staging, BUILD_RECORD),
      `${JSON.stringify({ packageDigest: digest, manifestDigest, steps }, null, 2)}\n`,
    );
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { dir: target, manifest, packageDigest: digest, manifestDigest, steps, reused: false };
}
