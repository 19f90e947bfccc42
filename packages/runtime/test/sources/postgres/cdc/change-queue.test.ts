import { describe, expect, it } from 'vitest';
import { ChangeQueue } from '../../../../src/sources/postgres/cdc/change-queue.js';

const row = (id: number) => ({ id });

describe('ChangeQueue', () => {
  it('hands consecutive small transactions over together, with the last commit LSN', () => {
    const queue = new ChangeQueue(10);
    queue.push(row(1), 100n);
    expect(queue.takeable).toBe(false);
    expect(queue.commit(110n)).toBe(true);
    queue.push(row(2), 200n);
    queue.commit(210n);
    expect(queue.size).toBe(2);
    expect(queue.take()).toEqual({ rows: [row(1), row(2)], lsn: 210n });
    expect(queue.empty).toBe(true);
    expect(queue.take()).toBeUndefined();
  });

  it('splits a big transaction into full chunks without state; only its last rows carry the commit', () => {
    const queue = new ChangeQueue(2);
    for (let i = 1; i <= 5; i++) queue.push(row(i), 100n);
    expect(queue.take()).toEqual({ rows: [row(1), row(2)], partialOf: 100n });
    expect(queue.take()).toEqual({ rows: [row(3), row(4)], partialOf: 100n });
    // The open transaction keeps its last row until it commits.
    expect(queue.take()).toBeUndefined();
    queue.commit(150n);
    expect(queue.take()).toEqual({ rows: [row(5)], lsn: 150n });
  });

  it('seals committed rows before an open transaction fills a chunk', () => {
    const queue = new ChangeQueue(2);
    queue.push(row(1), 100n);
    queue.commit(110n);
    queue.push(row(2), 200n);
    queue.push(row(3), 200n);
    expect(queue.take()).toEqual({ rows: [row(1)], lsn: 110n });
    expect(queue.take()).toBeUndefined();
    expect(queue.size).toBe(2);
  });

  it('a commit without rows of the table changes nothing', () => {
    const queue = new ChangeQueue(2);
    expect(queue.commit(110n)).toBe(false);
    expect(queue.takeable).toBe(false);
  });

  it('forgets the rows of a transaction interrupted by a disconnect, keeping committed ones', () => {
    const queue = new ChangeQueue(2);
    queue.push(row(1), 100n);
    queue.commit(110n);
    for (let i = 2; i <= 6; i++) queue.push(row(i), 200n);
    queue.dropOpenTransaction(200n);
    expect(queue.size).toBe(1);
    expect(queue.take()).toEqual({ rows: [row(1)], lsn: 110n });
    expect(queue.take()).toBeUndefined();
    expect(queue.empty).toBe(true);
  });
});
