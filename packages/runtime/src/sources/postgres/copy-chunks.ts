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

const QUOTE = 0x22;
const NEWLINE = 0x0a;

/**
 * A `COPY … TO STDOUT (FORMAT csv)` stream cut into chunks of complete rows (at least `chunkRows`
 * each, the last one possibly fewer), as bytes: nothing is parsed. A row ends at a newline outside
 * quotes; quotes are tracked across the stream's buffers, with a byte scan only for buffers that hold
 * a quote (most hold none). The last chunk comes with `last: true`, as in copyTextChunks.
 */
export async function* copyCsvChunks(
  stream: AsyncIterable<Buffer>,
  chunkRows: number,
  what: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<{ data: Buffer; rows: number; longestRow: number; last: boolean }> {
  let parts: Buffer[] = [];
  let rows = 0;
  let inQuotes = false;
  // Bytes of the row being read (it may span buffers), and the longest row of the chunk so far.
  let partial = 0;
  let longest = 0;
  let ready: { data: Buffer; rows: number; longestRow: number } | undefined;
  for await (const data of stream) {
    // Rows that end in this buffer, and where the last of them ends.
    let ended = 0;
    let lastEnd = -1;
    let longestHere = 0;
    const rowEnds = (at: number) => {
      const length = partial + at - lastEnd;
      if (length > longestHere) longestHere = length;
      partial = 0;
      ended++;
      lastEnd = at;
    };
    if (!inQuotes && data.indexOf(QUOTE) < 0) {
      for (let at = data.indexOf(NEWLINE); at >= 0; at = data.indexOf(NEWLINE, at + 1)) rowEnds(at);
    } else {
      for (let i = 0; i < data.length; i++) {
        const byte = data[i];
        if (byte === QUOTE) inQuotes = !inQuotes;
        else if (byte === NEWLINE && !inQuotes) rowEnds(i);
      }
    }
    partial += data.length - lastEnd - 1;
    if (rows + ended < chunkRows || lastEnd < 0) {
      parts.push(data);
      rows += ended;
      longest = Math.max(longest, longestHere);
      continue;
    }
    // Cut after the last complete row; the rest starts the next chunk.
    parts.push(data.subarray(0, lastEnd + 1));
    const chunk = { data: Buffer.concat(parts), rows: rows + ended, longestRow: Math.max(longest, longestHere) };
    parts = lastEnd + 1 < data.length ? [data.subarray(lastEnd + 1)] : [];
    rows = 0;
    longest = 0;
    // One chunk is held back so that the last one can be marked.
    if (ready) yield { ...ready, last: false };
    if (signal?.aborted) return;
    ready = chunk;
  }
  if (signal?.aborted) return;
  const rest = Buffer.concat(parts);
  if (inQuotes || (rest.length > 0 && rest[rest.length - 1] !== NEWLINE)) {
    throw new RuntimeError('internal', `${what} ended inside a row`);
  }
  if (rest.length === 0) {
    yield { data: ready?.data ?? rest, rows: ready?.rows ?? 0, longestRow: ready?.longestRow ?? 0, last: true };
  } else {
    if (ready) yield { ...ready, last: false };
    yield { data: rest, rows, longestRow: longest, last: true };
  }
}
