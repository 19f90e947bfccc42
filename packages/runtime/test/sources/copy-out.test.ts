import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { CopyOut } from '../../src/sources/postgres/copy-out.js';

/** A backend message: its code, a 32-bit length (itself included) and the payload. */
function message(code: string, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.write(code, 0, 'latin1');
  head.writeUInt32BE(payload.length + 4, 1);
  return Buffer.concat([head, payload]);
}

const copyOutResponse = (format: number) => message('H', Buffer.from([format, 0, 0]));
const commandComplete = (rows: number) => message('C', Buffer.from(`COPY ${rows}\0`));
const readyForQuery = message('Z', Buffer.from('I'));

/** A COPY that ends well: CopyOutResponse, `body` (CopyData and others), CopyDone, CommandComplete (`count` rows), ReadyForQuery. */
function wellEnded(format: number, body: readonly Buffer[], count: number): Buffer {
  return Buffer.concat([copyOutResponse(format), ...body, message('c'), commandComplete(count), readyForQuery]);
}

/**
 * Runs a CopyOut over `wire`, fed in pieces cut at `cuts`, on a pg connection stand-in: a socket with
 * one `data` listener playing pg's parser, which reads the messages handed back to it and calls the
 * query's handlers as pg does. Returns the blocks (or the failure), what pg's parser saw, the text
 * sent, and the calls of pg's query callback.
 */
async function copyOver(wire: Buffer, cuts: number[], options: { chunkRows: number; binary?: boolean }) {
  const copy = new CopyOut(options.binary ? 'COPY t TO STDOUT (FORMAT binary)' : 'COPY t TO STDOUT', options);
  const callbacks: (Error | null)[] = [];
  copy.callback = (error) => callbacks.push(error);
  const stream = new PassThrough();
  const seen: string[] = [];
  let pending = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      const length = pending.readUInt32BE(1);
      if (pending.length < 1 + length) break;
      const code = String.fromCharCode(pending[0]!);
      const body = pending.subarray(5, 1 + length);
      pending = pending.subarray(1 + length);
      seen.push(code);
      if (code === 'C') copy.handleCommandComplete({ text: body.toString('utf8', 0, body.length - 1) });
      else if (code === 'E') copy.handleError(new Error(body.toString('latin1')));
      else if (code === 'Z') copy.handleReadyForQuery();
    }
  });
  const sent: string[] = [];
  copy.submit({ stream, query: (text: string) => sent.push(text) } as unknown as pg.Connection);
  const [result] = await Promise.allSettled([collect(copy), feed(stream, wire, cuts)]);
  const failure = result.status === 'rejected' ? String(result.reason) : undefined;
  return { blocks: result.status === 'fulfilled' ? result.value : [], failure, seen, sent, callbacks };
}

/** Feeds `bytes` to the socket in pieces cut at `cuts`, a tick apart. */
async function feed(stream: PassThrough, bytes: Buffer, cuts: number[]): Promise<void> {
  let at = 0;
  for (const cut of [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b)) {
    stream.write(bytes.subarray(at, cut));
    at = cut;
    await new Promise((resolve) => setImmediate(resolve));
  }
  stream.write(bytes.subarray(at));
}

async function collect(copy: CopyOut) {
  const blocks = [];
  for await (const block of copy.blocks()) blocks.push({ ...block, data: Buffer.from(block.data) });
  return blocks;
}

describe('CopyOut', () => {
  it('hands over every row once, in order, in blocks of chunkRows, wherever the socket splits the messages', async () => {
    const row = fc
      .uint8Array({ minLength: 1, maxLength: 40 })
      .map((bytes) => Buffer.concat([Buffer.from(bytes), Buffer.from('\n')]));
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { maxLength: 60 }),
        fc.array(fc.nat({ max: 3000 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        async (rows, cuts, chunkRows, notices) => {
          // Notices may come between any two messages of a COPY: skipped.
          const body = rows.flatMap((r, i) => [
            message('d', r),
            ...(notices && i % 7 === 3 ? [message('N', Buffer.from('Snotice\0\0'))] : []),
          ]);
          const wire = wellEnded(0, body, rows.length);
          const { blocks, failure, seen, sent, callbacks } = await copyOver(wire, cuts, { chunkRows });
          expect(failure).toBeUndefined();
          expect(sent).toEqual(['COPY t TO STDOUT']);
          expect(Buffer.concat(blocks.map((b) => b.data))).toEqual(Buffer.concat(rows));
          expect(blocks.map((b) => b.last)).toEqual(blocks.map((_b, i) => i === blocks.length - 1));
          expect(blocks.map((b) => b.rows)).toEqual(
            rows.length === 0
              ? [0]
              : Array.from({ length: Math.ceil(rows.length / chunkRows) }, (_v, i) =>
                  Math.min(chunkRows, rows.length - i * chunkRows),
                ),
          );
          let next = 0;
          for (const block of blocks) {
            const mine = rows.slice(next, next + block.rows);
            next += block.rows;
            expect(block.longestRow).toBe(Math.max(0, ...mine.map((r) => r.length)));
          }
          // pg's parser got the socket back for the end of the query, and its callback was called once.
          expect(seen).toEqual(['C', 'Z']);
          expect(callbacks).toEqual([null]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reports the server's error, gives pg the rest of the messages and calls its callback with the error", async () => {
    const wire = Buffer.concat([
      copyOutResponse(0),
      message('d', Buffer.from('1\n')),
      message('E', Buffer.from('division by zero')),
      readyForQuery,
    ]);
    const { failure, seen, callbacks } = await copyOver(wire, [9, 14], { chunkRows: 2 });
    expect(failure).toMatch(/division by zero/);
    expect(seen).toEqual(['E', 'Z']);
    expect(callbacks.map((e) => e?.message)).toEqual(['division by zero']);
  });

  it("fails when the rows read do not add up to the server's count", async () => {
    const { failure } = await copyOver(wellEnded(0, [message('d', Buffer.from('1\n'))], 2), [], { chunkRows: 10 });
    expect(failure).toMatch(/the server sent 2 rows, 1 were read/);
  });

  it('refuses an answer in the other format, wherever the socket cuts the response', async () => {
    // Cut right after the message header: the format byte comes in the next socket buffer.
    const { failure } = await copyOver(wellEnded(1, [message('d', Buffer.from('x'))], 1), [5], { chunkRows: 10 });
    expect(failure).toMatch(/answered in binary format/);
  });

  it('counts binary rows without the header and the end marker, whether the header comes alone or with a row', async () => {
    const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
    const row = (n: number) => {
      const b = Buffer.alloc(2 + 4 + 4);
      b.writeInt16BE(1, 0);
      b.writeInt32BE(4, 2);
      b.writeInt32BE(n, 6);
      return b;
    };
    const trailer = Buffer.from([0xff, 0xff]);
    for (const [name, messages] of [
      ['with the first row', [Buffer.concat([header, row(1)]), row(2), row(3), trailer]],
      ['alone', [header, row(1), row(2), row(3), trailer]],
      ['empty table', [Buffer.concat([header, trailer])]],
    ] as const) {
      const rows = name === 'empty table' ? 0 : 3;
      const { blocks, failure } = await copyOver(
        wellEnded(
          1,
          messages.map((m) => message('d', m)),
          rows,
        ),
        [3, 30],
        { chunkRows: 2, binary: true },
      );
      expect(failure, name).toBeUndefined();
      expect(
        blocks.reduce((n, b) => n + b.rows, 0),
        name,
      ).toBe(rows);
      expect(Buffer.concat(blocks.map((b) => b.data)), name).toEqual(Buffer.concat(messages));
    }
  });
});
