import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, parse, posix, resolve, sep } from 'node:path';
import { FactoryError } from '../../errors.js';

export interface WritePackageOptions {
  /** Replace a folder that is not empty (the CLI's `--force`). */
  readonly force?: boolean;
}

/** A path a package may hold: relative, POSIX, normalised, with no `.`/`..`/empty segment or odd character. */
export function isPackagePath(path: string): boolean {
  return (
    path !== '' &&
    // eslint-disable-next-line no-control-regex -- control characters never belong in a package path
    !/[\\\u0000-\u001f]/.test(path) &&
    !path.startsWith('/') &&
    !/^[A-Za-z]:/.test(path) &&
    posix.normalize(path) === path &&
    path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..')
  );
}

function refuseDangerousTarget(target: string): void {
  const cwd = process.cwd();
  if (target === parse(target).root || target === homedir() || cwd === target || cwd.startsWith(`${target}${sep}`)) {
    throw new FactoryError('invalid_input', `refusing to write a package over ${target}: choose a folder of its own`);
  }
}

/**
 * Writes a package into `outDir` and returns its absolute path. Every path is checked first; files go
 * to a temporary sibling folder that is renamed into place, so a failure leaves nothing half written.
 * A folder that exists must be empty unless `force` replaces it.
 */
export async function writePackage(
  pkg: { readonly files: ReadonlyMap<string, string | Uint8Array> },
  outDir: string,
  options: WritePackageOptions = {},
): Promise<string> {
  for (const path of pkg.files.keys()) {
    if (!isPackagePath(path))
      throw new FactoryError('internal', `refusing to write ${JSON.stringify(path)}: not a path inside the package`);
  }
  const target = resolve(outDir);
  refuseDangerousTarget(target);
  const existing = await stat(target).catch(() => undefined);
  if (existing !== undefined) {
    if (!existing.isDirectory()) throw new FactoryError('invalid_input', `${target} exists and is not a folder`);
    if ((await readdir(target)).length > 0 && options.force !== true) {
      throw new FactoryError('invalid_input', `${target} is not empty; pass --force to replace it`);
    }
  }
  await mkdir(dirname(target), { recursive: true });
  const staging = await mkdtemp(join(dirname(target), `.${basename(target)}.tmp-`));
  try {
    for (const [path, content] of pkg.files) {
      const file = resolve(staging, ...path.split('/'));
      if (!file.startsWith(`${staging}${sep}`))
        throw new FactoryError('internal', `refusing to write outside the package: ${path}`);
      await mkdir(dirname(file), { recursive: true });
      // `wx`: a file is always new, never an existing entry (or a link) opened for writing.
      await writeFile(file, content, { flag: 'wx' });
    }
    if (existing === undefined) {
      await rename(staging, target);
    } else {
      const previous = `${staging}.previous`;
      await rename(target, previous);
      try {
        await rename(staging, target);
      } catch (error) {
        await rename(previous, target);
        throw error;
      }
      await rm(previous, { recursive: true, force: true });
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return target;
}
