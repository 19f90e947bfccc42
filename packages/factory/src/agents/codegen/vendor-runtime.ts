import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { FactoryError } from '../../errors.js';

const run = promisify(execFile);

/** A package packed for a generated connector's `vendor/` folder. */
export interface VendoredPackage {
  /** `@connector-factory/runtime` */
  readonly name: string;
  readonly version: string;
  /** `connector-factory-runtime-0.1.0.tgz`, as `npm pack` names it. */
  readonly fileName: string;
  readonly bytes: Uint8Array;
}

/** The two packages a generated connector imports; the runtime's own dependency on ir resolves to the vendored ir. */
export interface RuntimeTarballs {
  readonly ir: VendoredPackage;
  readonly runtime: VendoredPackage;
}

export interface VendorOptions {
  /** A folder with prebuilt `connector-factory-ir-*.tgz` and `connector-factory-runtime-*.tgz`: nothing is packed. */
  readonly from?: string;
  /** Build the packages first (`tsc -b`) when their sources are here, as in this repository. Default true. */
  readonly build?: boolean;
}

const PACKAGES = { ir: '@connector-factory/ir', runtime: '@connector-factory/runtime' } as const;
type Key = keyof typeof PACKAGES;

/** `@connector-factory/runtime` → `connector-factory-runtime-` (npm pack's file name prefix). */
const filePrefix = (name: string) => `${name.replace(/^@/, '').replace('/', '-')}-`;

/** The folder of an installed package: its entry point's nearest parent whose package.json has its name. */
async function packageDir(name: string): Promise<string> {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch (error) {
    throw new FactoryError(
      'not_found',
      `cannot find ${name} to vendor into the connector; run from the Connector Factory repository or pass prebuilt tarballs`,
      [],
      { cause: error },
    );
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name: found } = JSON.parse(await readFile(manifest, 'utf8')) as { name?: string };
    if (found === name) return dir;
  }
  throw new FactoryError('not_found', `cannot find the package folder of ${name} (from ${entry})`);
}

async function fromFolder(folder: string): Promise<RuntimeTarballs> {
  const files = await readdir(folder).catch((error: unknown) => {
    throw new FactoryError('not_found', `${folder}: cannot read the vendor folder`, [], { cause: error });
  });
  const pick = async (key: Key): Promise<VendoredPackage> => {
    const name = PACKAGES[key];
    const prefix = filePrefix(name);
    const matches = files.filter((file) => file.startsWith(prefix) && file.endsWith('.tgz')).sort();
    if (matches.length !== 1) {
      throw new FactoryError(
        'invalid_input',
        `${folder} must hold exactly one ${prefix}<version>.tgz (found ${matches.length === 0 ? 'none' : matches.join(', ')})`,
      );
    }
    const fileName = matches[0]!;
    const version = fileName.slice(prefix.length, -'.tgz'.length);
    return { name, version, fileName, bytes: new Uint8Array(await readFile(join(folder, fileName))) };
  };
  return { ir: await pick('ir'), runtime: await pick('runtime') };
}

async function pack(dir: string, destination: string): Promise<VendoredPackage> {
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], {
    cwd: dir,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: unknown) => {
    throw new FactoryError('internal', `npm pack failed in ${dir}: ${(error as Error).message.split('\n')[0]}`, [], {
      cause: error,
    });
  });
  const [result] = JSON.parse(stdout) as [{ name: string; version: string; filename: string }];
  return {
    name: result.name,
    version: result.version,
    fileName: result.filename,
    bytes: new Uint8Array(await readFile(join(destination, result.filename))),
  };
}

/**
 * The ir and runtime tarballs a generated connector vendors: prebuilt ones from `options.from`, or
 * packed from the installed packages (built first with `tsc -b` where their sources are present).
 * `npm pack` is reproducible (fixed timestamps and modes), so the same build gives the same bytes.
 */
export async function vendorRuntime(options: VendorOptions = {}): Promise<RuntimeTarballs> {
  if (options.from !== undefined) return fromFolder(options.from);
  const irDir = await packageDir(PACKAGES.ir);
  const runtimeDir = await packageDir(PACKAGES.runtime);
  if (options.build !== false && existsSync(join(runtimeDir, 'tsconfig.json')) && existsSync(join(runtimeDir, 'src'))) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    await run(process.execPath, [tsc, '-b', runtimeDir], { maxBuffer: 64 * 1024 * 1024 }).catch((error: unknown) => {
      const output = (error as { stdout?: string }).stdout?.trim().split('\n')[0] ?? (error as Error).message;
      throw new FactoryError('internal', `building the runtime failed: ${output}`, [], { cause: error });
    });
  }
  const destination = await mkdtemp(join(tmpdir(), 'cf-vendor-'));
  try {
    return { ir: await pack(irDir, destination), runtime: await pack(runtimeDir, destination) };
  } finally {
    await rm(destination, { recursive: true, force: true });
  }
}
