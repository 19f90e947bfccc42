import { bulkHandoverPossible, type BulkHandoverInputs } from './bulk-handover.js';

/**
 * The V8 flags a connector process runs with, chosen from its manifest: the generated Dockerfile's
 * CMD, the Kubernetes container's command and the local supervisor all start `node` with them, and
 * the PostgreSQL benchmark runs its connector with them too.
 *
 * A PostgreSQL full refresh that takes a bulk hand-over streams bytes: socket reads, COPY blocks and
 * pages are short-lived Buffers, whose memory V8 frees only when the small objects holding them are
 * collected, and with Node's default young generation (semi-spaces up to 16 MB) those collections come
 * late: with the CSV hand-over a 10 M-row refresh carried up to ~60 MB of dead buffers, its peak RSS
 * 23–28 % over a 1 M-row one. With `--max-semi-space-size=8` it stayed within 7–15 %, at the same
 * speed (the binary hand-over measured the same with and without it at 1 M rows). Every
 * other connector builds records, which the larger young generation suits: with 8 MB the lake writer
 * took 17 % longer over 5 M records, so they keep Node's default. (Measured on the project's 2-core
 * machine; see the README's benchmarks.)
 */

export type NodeFlagInputs = BulkHandoverInputs;

/** `--max-semi-space-size=8` when the connector's rows can travel in bulk, and nothing otherwise. */
export function connectorNodeFlags(manifest: NodeFlagInputs): string[] {
  return bulkHandoverPossible(manifest) ? ['--max-semi-space-size=8'] : [];
}
