/**
 * The V8 flags a connector process runs with: the generated Dockerfile's CMD, the Kubernetes
 * container's command and the local supervisor all start `node` with them, and the PostgreSQL
 * benchmark runs its connector with them too.
 *
 * `--max-semi-space-size=8` (MB; Node 20 lets the young generation grow to 16 MB per semi-space): a
 * connector moves its data through short-lived Buffers (socket reads, COPY messages, CSV pages), whose
 * memory V8 releases only when the small JS objects holding them are collected. With the larger
 * young generation those collections come late, and a long full refresh carried up to ~60 MB of
 * dead buffers: 10 M rows peaked at 286–302 MB against 233 MB for 1 M. With 8 MB the peak was
 * 252–255 MB against 229–237 MB, at the same speed, and CDC throughput did not change
 * (measured on the project's 2-core machine; see the README's benchmarks).
 */
export const CONNECTOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
