import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RuntimeError } from '../../errors.js';
import type { ObjectInfo, ObjectStore } from '../object-store.js';

/**
 * Temporary names start with `.` so that directory-listing readers (DuckDB, Spark, pyarrow) skip them,
 * and carry the writer's pid so that a later writer can tell a dead process's leftovers.
 */
const tempName = (path: string) =>
  join(dirname(path), `.tmp-${process.pid}-${randomBytes(6).toString('hex')}-${path.split(sep).pop()}`);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A local folder as an object store. Objects are written to a hidden temporary file in the target
 * folder and renamed into place (atomic on POSIX); putIfAbsent uses link(), which fails when the
 * target exists, so two writers can never both create the same log entry.
 */
export class FileStore implements ObjectStore {
  readonly root: string;
  readonly url: string;

  /** `location` is a path or a `file://` URL. */
  constructor(location: string) {
    this.root = resolve(location.startsWith('file://') ? fileURLToPath(location) : location);
    this.url = pathToFileURL(this.root).href.replace(/\/?$/, '/');
  }

  private path(key: string): string {
    const full = resolve(this.root, key);
    if (full !== this.root && !full.startsWith(this.root + sep)) {
      throw new RuntimeError('config', `object key "${key}" escapes the store root ${this.root}`);
    }
    return full;
  }

  private async viaTemp(
    key: string,
    write: (temp: string) => Promise<void>,
    publish: (temp: string, target: string) => Promise<void>,
  ) {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const temp = tempName(target);
    try {
      await write(temp);
      await publish(temp, target);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async putFile(key: string, localFile: string): Promise<void> {
    await this.viaTemp(key, (temp) => copyFile(localFile, temp), rename);
  }

  async put(key: string, data: Uint8Array | string): Promise<void> {
    await this.viaTemp(key, (temp) => writeFile(temp, data), rename);
  }

  async putIfAbsent(key: string, data: Uint8Array | string): Promise<boolean> {
    let created = true;
    await this.viaTemp(
      key,
      (temp) => writeFile(temp, data),
      async (temp, target) => {
        try {
          await link(temp, target);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
          created = false;
        }
      },
    );
    return created;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async download(key: string, localFile: string): Promise<boolean> {
    try {
      await copyFile(this.path(key), localFile);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    // Walk only the deepest folder the prefix names, then filter by the rest of it.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = this.path(folder);
    const out: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.tmp-')) continue;
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile()) {
          const key = relative(this.root, full).split(sep).join('/');
          if (!key.startsWith(prefix)) continue;
          const info = await stat(full);
          out.push({ key, size: info.size, lastModified: info.mtime });
        }
      }
    };
    await walk(start);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async rename(from: string, to: string): Promise<boolean> {
    const target = this.path(to);
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(this.path(from), target);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Removes temporary files that writers which are no longer running left behind (a crash). */
  async cleanUp(): Promise<void> {
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else {
          const pid = /^\.tmp-(\d+)-/.exec(entry.name)?.[1];
          if (pid !== undefined && !isAlive(Number(pid))) await rm(full, { force: true });
        }
      }
    };
    await walk(this.root);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      try {
        await unlink(this.path(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }
}
