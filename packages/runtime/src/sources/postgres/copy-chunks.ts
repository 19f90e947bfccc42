import type { Row } from '../../records/record.js';
import type { CopyBlock } from './copy-out.js';
import { parseCopyTextLine } from './postgres-values.js';

/**
 * Rows of a `COPY … TO STDOUT` (text format) read by CopyOut, built with `build`, a chunk per block
 * (`chunkRows` rows, the last one possibly fewer, and marked `last`: it carries the sync's state).
 * Shared by full refresh and the CDC snapshot. A text-format row never holds a raw newline (COPY
 * writes it as `\n`), so a block splits at its newlines.
 */
export async function* copyTextChunks(
  blocks: AsyncIterable<CopyBlock>,
  build: (fields: (string | null)[]) => Row,
): AsyncGenerator<{ rows: Row[]; last: boolean }> {
  const fields: (string | null)[] = [];
  for await (const block of blocks) {
    const rows: Row[] = [];
    if (block.rows > 0) {
      for (const line of block.data.toString('utf8', 0, block.data.length - 1).split('\n')) {
        rows.push(build(parseCopyTextLine(line, fields)));
      }
    }
    yield { rows, last: block.last };
  }
}
