import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** Folders a build or a run creates inside a package; never part of what was generated. */
export const BUILD_OUTPUT_DIRS = new Set(['node_modules', 'dist', 'bundle', '.test-build', '.connector-state']);

/** The package's own files (sorted POSIX paths), without build output. */
export async function packageFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!BUILD_OUTPUT_DIRS.has(entry.name)) await walk(path);
      } else if (entry.isFile()) {
        files.push(relative(dir, path).split(sep).join('/'));
      }
    }
  };
  await walk(dir);
  return files.sort();
}

/**
 * `sha256:<hex>` over every file of the package (path, length, bytes, in path order): the identity of
 * what is deployed, shown to approvers and recorded in the audit log.
 */
export async function packageDigest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await packageFiles(dir)) {
    const bytes = await readFile(join(dir, ...file.split('/')));
    hash.update(`${file}\0${bytes.length}\0`);
    hash.update(bytes);
  }
  return `sha256:${hash.digest('hex')}`;
}
