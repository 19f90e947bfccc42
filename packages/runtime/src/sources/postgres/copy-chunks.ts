import { RuntimeError } from '../../errors.js';
import type { Row } from '../../lake/stage.js';
import { parseCopyTextLine } from './postgres-values.js';

/**
 * Rows of a `COPY … TO STDOUT` (text format) stream, built with `build`, in chunks of `chunkRows`. The
 * chunk a caller gets last is the one to carry the sync's state, so the last chunk is always handed
 * over with `last: true` (empty when the table is). Shared by full refresh and the CDC snapshot.
 */
export async function* copyTextChunks(
  stream: AsyncIterable<Buffer>,
  build: (fields: (string | null)[]) => Row,
  chunkRows: number,
  what: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<{ rows: Row[]; last: boolean }> {
  let rows: Row[] = [];
  let ready: Row[] | undefined;
  let rest: Buffer | undefined;
  const fields: (string | null)[] = [];
  for await (const data of stream) {
    const buffer = rest ? Buffer.concat([rest, data]) : data;
    const end = buffer.lastIndexOf(0x0a);
    if (end < 0) {
      rest = buffer;
      continue;
    }
    rest = end + 1 < buffer.length ? buffer.subarray(end + 1) : undefined;
    for (const line of buffer.toString('utf8', 0, end).split('\n')) {
      rows.push(build(parseCopyTextLine(line, fields)));
      if (rows.length >= chunkRows) {
        // One chunk is held back so that the last one can be marked.
        if (ready) yield { rows: ready, last: false };
        if (signal?.aborted) return;
        ready = rows;
        rows = [];
      }
    }
  }
  if (signal?.aborted) return;
  if (rest !== undefined && rest.length > 0) throw new RuntimeError('internal', `${what} ended inside a row`);
  if (rows.length === 0) {
    yield { rows: ready ?? [], last: true };
  } else {
    if (ready) yield { rows: ready, last: false };
    yield { rows, last: true };
  }
}
