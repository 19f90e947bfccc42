import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import {
  CONNECTOR_METRIC_NAMES,
  ConnectorMetricsRecorder,
  parseConnectorMetrics,
  parsePrometheusText,
  type ConnectorMetrics,
} from '../../src/observe/connector-metrics.js';

const T0 = Date.parse('2025-03-01T12:00:00.000Z');

/** Every field of the spec's ConnectorMetrics (lastError is optional there, but present after an error). */
const FIELDS: ReadonlyArray<keyof ConnectorMetrics> = [
  'healthChecksPassed',
  'healthChecksFailed',
  'uptimePercent',
  'extractionDurationMs',
  'recordsProcessed',
  'bytesProcessed',
  'nullFieldRate',
  'schemaViolations',
  'duplicateRecords',
  'lastSuccessfulRun',
  'dataLatencyMinutes',
  'errorCount',
  'errorRate',
  'lastError',
];

function recorder(clock: { now: number }, secrets: readonly string[] = []) {
  return new ConnectorMetricsRecorder({
    connectorId: 'connector_postgres_orders_v1',
    version: '1.2.3',
    secrets,
    now: () => clock.now,
  });
}

describe('ConnectorMetricsRecorder', () => {
  it('round-trips every ConnectorMetrics field through the Prometheus text', async () => {
    const clock = { now: T0 };
    const metrics = recorder(clock, ['hunter2-secret']);
    metrics.recordBatch({
      records: 1000,
      bytes: 123_456,
      nullFields: 37,
      fields: 7000,
      schemaViolations: 2,
      duplicates: 5,
      newestSourceTime: new Date(T0 - 90_000),
      durationMs: 1234.5,
    });
    metrics.recordBatch({ records: 3, bytes: 99, nullFields: 1, fields: 21, durationMs: 15.25 });
    clock.now += 1_777;
    metrics.recordRun('success');
    metrics.recordRun(
      'failure',
      new RuntimeError('store', 'upload to postgres://app:hunter2-secret@db:5432/orders failed: "quoted"\nsecond line'),
    );
    metrics.recordRun('success', undefined, { durationMs: 42 });
    metrics.recordHealthCheck(true);
    metrics.recordHealthCheck(true);
    metrics.recordHealthCheck(false);
    clock.now += 120_000;

    const snapshot = metrics.snapshot();
    expect(Object.keys(snapshot).sort()).toEqual([...FIELDS].sort());
    expect(snapshot).toEqual({
      healthChecksPassed: 2,
      healthChecksFailed: 1,
      uptimePercent: (100 * 2) / 3,
      extractionDurationMs: 42,
      recordsProcessed: 1003,
      bytesProcessed: 123_555,
      nullFieldRate: 38 / 7021,
      schemaViolations: 2,
      duplicateRecords: 5,
      lastSuccessfulRun: new Date(T0 + 1_777),
      dataLatencyMinutes: (1_777 + 120_000 + 90_000) / 60_000,
      errorCount: 1,
      errorRate: 1 / 3,
      lastError: 'upload to postgres://app:***@db:5432/orders failed: "quoted" second line',
    });

    const text = await metrics.metricsText();
    expect(text).not.toContain('hunter2');
    const parsed = parseConnectorMetrics(text);
    expect(parsed).toEqual(snapshot);
    expect(parsed.lastSuccessfulRun).toBeInstanceOf(Date);
  });

  it('round-trips a fresh recorder: nothing recorded yet', async () => {
    const metrics = recorder({ now: T0 });
    const snapshot = metrics.snapshot();
    expect(snapshot).toEqual({
      healthChecksPassed: 0,
      healthChecksFailed: 0,
      uptimePercent: 100,
      extractionDurationMs: 0,
      recordsProcessed: 0,
      bytesProcessed: 0,
      nullFieldRate: 0,
      schemaViolations: 0,
      duplicateRecords: 0,
      lastSuccessfulRun: null,
      dataLatencyMinutes: 0,
      errorCount: 0,
      errorRate: 0,
    });
    expect(parseConnectorMetrics(await metrics.metricsText())).toEqual(snapshot);
  });

  it('exposes every metric on its own registry, labelled with the connector, never on the global one', async () => {
    const a = recorder({ now: T0 });
    const b = recorder({ now: T0 }); // a second recorder in the same process does not collide
    a.recordBatch({ records: 1, bytes: 1, durationMs: 1 });
    b.recordBatch({ records: 2, bytes: 2, durationMs: 1 });
    const text = await a.metricsText();
    for (const name of Object.values(CONNECTOR_METRIC_NAMES)) {
      if (name === CONNECTOR_METRIC_NAMES.lastErrorInfo) continue; // only after an error
      expect(text, name).toContain(`# TYPE ${name} `);
      expect(globalRegistry.getSingleMetric(name), name).toBeUndefined();
    }
    for (const sample of parsePrometheusText(text)) {
      expect(sample.labels).toMatchObject({ connector_id: 'connector_postgres_orders_v1', connector_version: '1.2.3' });
    }
    expect(text).toContain(
      'connector_records_total{connector_id="connector_postgres_orders_v1",connector_version="1.2.3"} 1',
    );
    expect(text).toContain('connector_runs_total{result="failure",connector_id=');
    expect(a.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('keeps one last-error series, redacted and truncated, and counts errors by kind', async () => {
    const clock = { now: T0 };
    const metrics = new ConnectorMetricsRecorder({
      connectorId: 'c',
      version: '1.0.0',
      secrets: ['s3cr3t-value'],
      now: () => clock.now,
      maxErrorLength: 40,
    });
    metrics.recordRun('failure', new RuntimeError('config', 'first'));
    metrics.recordError(new Error(`token s3cr3t-value rejected ${'x'.repeat(100)}`));
    metrics.recordError('plain string problem', 'source');
    metrics.recordRun('failure');
    const text = await metrics.metricsText();
    const samples = parsePrometheusText(text);
    const info = samples.filter((s) => s.name === CONNECTOR_METRIC_NAMES.lastErrorInfo);
    expect(info).toHaveLength(1);
    expect(info[0]?.labels.message).toBe('run failed (no error given)');
    const kinds = Object.fromEntries(
      samples.filter((s) => s.name === CONNECTOR_METRIC_NAMES.errors).map((s) => [s.labels.kind, s.value]),
    );
    expect(kinds).toEqual({ config: 1, unknown: 2, source: 1 });
    expect(metrics.snapshot()).toMatchObject({ errorCount: 4, errorRate: 1 });

    metrics.recordError(new Error(`token s3cr3t-value rejected ${'x'.repeat(100)}`));
    const lastError = metrics.snapshot().lastError ?? '';
    expect(lastError).toBe(`token *** rejected ${'x'.repeat(20)}…`);
    expect(Array.from(lastError)).toHaveLength(40);
    expect(await metrics.metricsText()).not.toContain('s3cr3t');
  });

  it('computes data latency at scrape time and keeps the newest source timestamp', async () => {
    const clock = { now: T0 };
    const metrics = recorder(clock);
    metrics.recordBatch({ records: 1, bytes: 1, durationMs: 1, newestSourceTime: new Date(T0 - 60_000) });
    metrics.recordBatch({ records: 1, bytes: 1, durationMs: 1, newestSourceTime: new Date(T0 - 600_000) });
    expect(parseConnectorMetrics(await metrics.metricsText()).dataLatencyMinutes).toBe(1);
    clock.now += 30 * 60_000;
    expect(parseConnectorMetrics(await metrics.metricsText()).dataLatencyMinutes).toBe(31);
    expect(metrics.snapshot().dataLatencyMinutes).toBe(31);
  });

  it('sums batch durations into the run and starts over for the next run', () => {
    const metrics = recorder({ now: T0 });
    metrics.recordBatch({ records: 1, bytes: 1, durationMs: 100 });
    metrics.recordBatch({ records: 1, bytes: 1, durationMs: 250 });
    metrics.recordRun('success');
    expect(metrics.snapshot().extractionDurationMs).toBe(350);
    metrics.recordBatch({ records: 1, bytes: 1, durationMs: 7 });
    metrics.recordRun('failure', new Error('boom'));
    expect(metrics.snapshot().extractionDurationMs).toBe(7);
  });

  it('rejects impossible counts as internal errors', () => {
    const metrics = recorder({ now: T0 });
    const bad = [
      { records: -1, bytes: 0, durationMs: 0 },
      { records: 1.5, bytes: 0, durationMs: 0 },
      { records: 1, bytes: 0, durationMs: Number.NaN },
      { records: 1, bytes: 0, durationMs: 0, nullFields: 3, fields: 2 },
      { records: 1, bytes: 0, durationMs: 0, newestSourceTime: new Date('nope') },
    ];
    for (const batch of bad) {
      expect(() => metrics.recordBatch(batch), JSON.stringify(batch)).toThrow(RuntimeError);
    }
    expect(metrics.snapshot().recordsProcessed).toBe(0);
  });
});

describe('parseConnectorMetrics', () => {
  it('reads hand-written text: escapes, NaN, timestamps, summed kinds and derived gauges', () => {
    const text = [
      '# HELP connector_records_total Records.',
      '# TYPE connector_records_total counter',
      'connector_records_total{connector_id="a"} 10 1700000000000',
      'connector_records_total{connector_id="b"} 5',
      'connector_errors_total{connector_id="a",kind="store"} 2',
      'connector_errors_total{connector_id="a",kind="config",} 1',
      'connector_runs_total{connector_id="a",result="success"} 3',
      'connector_runs_total{connector_id="a",result="failure"} 1',
      'connector_fields_total{connector_id="a"} 8',
      'connector_null_fields_total{connector_id="a"} 2',
      'connector_health_checks_total{connector_id="a",result="passed"} 9',
      'connector_health_checks_total{connector_id="a",result="failed"} 1',
      'connector_last_success_timestamp_seconds{connector_id="a"} 1700000000.123',
      'connector_last_error_info{connector_id="a",kind="store",message="say \\"hi\\" to C:\\\\tmp\\nnext"} 1',
      'connector_bytes_total{connector_id="a"} Nan',
      '',
    ].join('\n');
    const a = parseConnectorMetrics(text, { connectorId: 'a' });
    expect(a).toMatchObject({
      recordsProcessed: 10,
      errorCount: 3,
      errorRate: 0.25,
      nullFieldRate: 0.25,
      uptimePercent: 90,
      healthChecksPassed: 9,
      lastSuccessfulRun: new Date(1_700_000_000_123),
      lastError: 'say "hi" to C:\\tmp\nnext',
      dataLatencyMinutes: 0,
    });
    expect(a.bytesProcessed).toBeNaN();
    expect(parseConnectorMetrics(text).recordsProcessed).toBe(15);
  });

  it('rejects text that is not a connector exposition, and malformed lines with their line number', () => {
    expect(() => parseConnectorMetrics('process_cpu_seconds_total 1\n')).toThrow(/no connector metrics/);
    expect(() => parseConnectorMetrics('connector_records_total 1\n', { connectorId: 'x' })).toThrow(RuntimeError);
    expect(() => parseConnectorMetrics('# ok\nconnector_records_total{kind="x} 1\n')).toThrow(/line 2/);
    expect(() => parseConnectorMetrics('connector_records_total one\n')).toThrow(/not a number/);
    expect(() => parseConnectorMetrics('<html>\n')).toThrow(RuntimeError);
  });
});
