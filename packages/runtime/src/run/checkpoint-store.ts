import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RuntimeError } from '../errors.js';

/** Where a connector resumes: the last committed batch and the source state after it. */
export interface Checkpoint {
  readonly sequence: number;
  readonly state: unknown;
  readonly updatedAt: string;
}

/**
 * Saves checkpoints after the lake commit. The lake commit itself carries the same state (so a crash
 * between the two loses nothing: the run loop takes whichever is newer); this store is what operators
 * and the monitor read, and the resume point when a table is replaced.
 */
export interface CheckpointStore {
  load(connectorId: string): Promise<Checkpoint | undefined>;
  save(connectorId: string, checkpoint: Checkpoint): Promise<void>;
}

/**
 * One JSON file per connector in a folder, replaced atomically (write, fsync, rename). On Kubernetes,
 * mount a persistent volume at the folder — or keep it on the pod's disk: the state in the lake's
 * commits is the source of truth and a fresh pod resumes from it.
 */
export class FileCheckpointStore implements CheckpointStore {
  constructor(private readonly directory: string) {}

  private file(connectorId: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(connectorId))
      throw new RuntimeError('config', `connector id "${connectorId}" is not usable as a file name`);
    return join(this.directory, `${connectorId}.checkpoint.json`);
  }

  async load(connectorId: string): Promise<Checkpoint | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(connectorId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as Checkpoint;
    } catch (error) {
      throw new RuntimeError(
        'corrupt',
        `${this.file(connectorId)} is not valid JSON; remove it to resume from the lake's last commit`,
        { cause: error },
      );
    }
  }

  async save(connectorId: string, checkpoint: Checkpoint): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const target = this.file(connectorId);
    const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(JSON.stringify(checkpoint, null, 2));
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}
