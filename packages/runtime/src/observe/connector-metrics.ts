import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RuntimeError } from '../errors.js';
import { createRedactor, type Redactor } from './logger.js';

/**
 * What the Monitor agent collects from a running connector (the spec's `ConnectorMetrics`).
 * `lastSuccessfulRun` is null until a run succeeds.
 */
export interface ConnectorMetrics {
  // Availability
  healthChecksPassed: number;
  healthChecksFailed: number;
  /** 100 × passed / (passed + failed) health checks; 100 before the first check. */
  uptimePercent: number;

  // Performance
  /** Extraction time of the last finished run (the sum of its batches unless the run gave its own). */
  extractionDurationMs: number;
  recordsProcessed: number;
  bytesProcessed: number;

  // Quality
  /** Null fields / fields seen, 0..1 (0 before any field). */
  nullFieldRate: number;
  schemaViolations: number;
  duplicateRecords: number;

  // Freshness
  lastSuccessfulRun: Date | null;
  /** Minutes from the newest source timestamp landed to now; 0 until a batch reports one. */
  dataLatencyMinutes: number;

  // Errors
  errorCount: number;
  /** Failed runs / runs, 0..1 (0 before the first run). */
  errorRate: number;
  /** The last error's message, redacted and truncated. */
  lastError?: string;
}

/** The names of the metrics a connector exposes on /metrics. */
export const CONNECTOR_METRIC_NAMES = {
  records: 'connector_records_total',
  bytes: 'connector_bytes_total',
  extractionDuration: 'connector_extraction_duration_seconds',
  lastExtractionDuration: 'connector_last_extraction_duration_milliseconds',
  nullFields: 'connector_null_fields_total',
  fields: 'connector_fields_total',
  nullFieldRate: 'connector_null_field_rate',
  schemaViolations: 'connector_schema_violations_total',
  duplicates: 'connector_duplicate_records_total',
  lastSuccess: 'connector_last_success_timestamp_seconds',
  newestSourceTime: 'connector_newest_source_timestamp_seconds',
  dataLatency: 'connector_data_latency_minutes',
  errors: 'connector_errors_total',
  runs: 'connector_runs_total',
  errorRate: 'connector_error_rate',
  lastErrorInfo: 'connector_last_error_info',
  lastErrorTime: 'connector_last_error_timestamp_seconds',
  healthChecks: 'connector_health_checks_total',
  uptime: 'connector_uptime_percent',
} as const;

const N = CONNECTOR_METRIC_NAMES;

export interface ConnectorMetricsOptions {
  readonly connectorId: string;
  readonly version: string;
  /** Literal credential values masked in error messages (see `secretValuesFromEnv`). */
  readonly secrets?: readonly string[];
  /** The clock, in epoch milliseconds (tests pin it). Default `Date.now`. */
  readonly now?: () => number;
  /** Longest `lastError` kept, in characters. Default 240. */
  readonly maxErrorLength?: number;
}

/** One landed batch. Counts are whole numbers ≥ 0; the optional ones default to 0. */
export interface BatchMetrics {
  readonly records: number;
  readonly bytes: number;
  /** Null values among `fields` (fields = records × columns seen). */
  readonly nullFields?: number;
  readonly fields?: number;
  readonly schemaViolations?: number;
  readonly duplicates?: number;
  /** The newest source timestamp (incremental key / commit time) in the batch, for data latency. */
  readonly newestSourceTime?: Date;
  /** Time spent extracting and landing the batch. */
  readonly durationMs: number;
}

export type RunResult = 'success' | 'failure';

export interface RunOptions {
  /** The run's extraction time; default: the sum of the durations of the batches since the last run. */
  readonly durationMs?: number;
}

const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const RUN_RESULTS: readonly RunResult[] = ['success', 'failure'];
const CHECK_RESULTS = ['passed', 'failed'] as const;

/** The `kind` label of an error: a RuntimeError's code, else `unknown`. */
export function errorKind(error: unknown): string {
  return error instanceof RuntimeError ? error.code : 'unknown';
}

/**
 * Records what a connector does and exposes it as Prometheus metrics on its own registry (never the
 * global one), every series labelled with `connector_id` and `connector_version`.
 */
export class ConnectorMetricsRecorder {
  readonly registry = new Registry();
  /** Masks the connector's secrets; the health server uses it for reasons and details. */
  readonly redactor: Redactor;
  readonly connectorId: string;
  readonly version: string;

  readonly #now: () => number;
  readonly #maxErrorLength: number;

  readonly #records: Counter;
  readonly #bytes: Counter;
  readonly #duration: Histogram;
  readonly #lastDuration: Gauge;
  readonly #nullFields: Counter;
  readonly #fields: Counter;
  readonly #nullFieldRate: Gauge;
  readonly #schemaViolations: Counter;
  readonly #duplicates: Counter;
  readonly #lastSuccess: Gauge;
  readonly #newestSource: Gauge;
  readonly #errors: Counter<'kind'>;
  readonly #runs: Counter<'result'>;
  readonly #errorRate: Gauge;
  readonly #lastErrorInfo: Gauge<'kind' | 'message'>;
  readonly #lastErrorTime: Gauge;
  readonly #healthChecks: Counter<'result'>;
  readonly #uptime: Gauge;

  // The same numbers in plain form, for snapshot() without a round trip through prom-client.
  #state = {
    records: 0,
    bytes: 0,
    nullFields: 0,
    fields: 0,
    schemaViolations: 0,
    duplicates: 0,
    runDurationMs: 0,
    lastDurationMs: 0,
    newestSourceMs: undefined as number | undefined,
    lastSuccessMs: undefined as number | undefined,
    errors: 0,
    runs: 0,
    failedRuns: 0,
    lastError: undefined as string | undefined,
    checksPassed: 0,
    checksFailed: 0,
  };

  constructor(options: ConnectorMetricsOptions) {
    this.connectorId = options.connectorId;
    this.version = options.version;
    this.#now = options.now ?? Date.now;
    this.#maxErrorLength = options.maxErrorLength ?? 240;
    this.redactor = createRedactor(options.secrets ?? []);
    this.registry.setDefaultLabels({ connector_id: options.connectorId, connector_version: options.version });

    const registers = [this.registry];
    const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers });
    const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers });

    this.#records = counter(N.records, 'Records landed in the lake.');
    this.#bytes = counter(N.bytes, 'Bytes of source data processed.');
    this.#duration = new Histogram({
      name: N.extractionDuration,
      help: 'Extraction time per run, in seconds.',
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#lastDuration = gauge(N.lastExtractionDuration, 'Extraction time of the last finished run, in milliseconds.');
    this.#nullFields = counter(N.nullFields, 'Null field values seen.');
    this.#fields = counter(N.fields, 'Field values seen (records × columns).');
    this.#nullFieldRate = gauge(N.nullFieldRate, 'Null field values / field values, 0..1.');
    this.#schemaViolations = counter(N.schemaViolations, 'Records that did not fit the table schema.');
    this.#duplicates = counter(N.duplicates, 'Duplicate records seen.');
    this.#lastSuccess = gauge(N.lastSuccess, 'Unix time of the last successful run (0: none yet).');
    this.#newestSource = gauge(N.newestSourceTime, 'Unix time of the newest source timestamp landed (0: none yet).');
    // Computed at each scrape, so a connector that stops landing data shows its latency growing.
    const latency = () => this.#latencyMinutes();
    new Gauge({
      name: N.dataLatency,
      help: 'Minutes from the newest source timestamp landed to now (0: none yet).',
      registers,
      collect() {
        this.set(latency());
      },
    });
    this.#errors = counter(N.errors, 'Errors, by kind.', ['kind']);
    this.#runs = counter(N.runs, 'Finished runs, by result.', ['result']);
    this.#errorRate = gauge(N.errorRate, 'Failed runs / runs, 0..1.');
    this.#lastErrorInfo = gauge(N.lastErrorInfo, 'The last error (always 1; the message is redacted).', [
      'kind',
      'message',
    ]);
    this.#lastErrorTime = gauge(N.lastErrorTime, 'Unix time of the last error (0: none yet).');
    this.#healthChecks = counter(N.healthChecks, 'Health checks answered, by result.', ['result']);
    this.#uptime = gauge(N.uptime, 'Passed health checks / health checks, in percent (100 before the first).');

    // Zero series up front, so dashboards and rate() see them before the first event.
    for (const result of RUN_RESULTS) this.#runs.inc({ result }, 0);
    for (const result of CHECK_RESULTS) this.#healthChecks.inc({ result }, 0);
    this.#uptime.set(100);
  }

  /** Counts one landed batch; its duration adds to the current run's extraction time. */
  recordBatch(batch: BatchMetrics): void {
    const count = (name: string, value: number | undefined): number => {
      const v = value ?? 0;
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new RuntimeError('internal', `recordBatch: ${name} must be a whole number ≥ 0 (got ${String(value)})`);
      }
      return v;
    };
    const records = count('records', batch.records);
    const bytes = count('bytes', batch.bytes);
    const nullFields = count('nullFields', batch.nullFields);
    const fields = count('fields', batch.fields);
    const schemaViolations = count('schemaViolations', batch.schemaViolations);
    const duplicates = count('duplicates', batch.duplicates);
    if (nullFields > fields) {
      throw new RuntimeError('internal', `recordBatch: nullFields (${nullFields}) exceeds fields (${fields})`);
    }
    const durationMs = checkDuration('recordBatch', batch.durationMs);
    let newest: number | undefined;
    if (batch.newestSourceTime !== undefined) {
      newest = batch.newestSourceTime.getTime();
      if (Number.isNaN(newest)) throw new RuntimeError('internal', 'recordBatch: newestSourceTime is an invalid Date');
    }

    const s = this.#state;
    s.records += records;
    s.bytes += bytes;
    s.nullFields += nullFields;
    s.fields += fields;
    s.schemaViolations += schemaViolations;
    s.duplicates += duplicates;
    s.runDurationMs += durationMs;
    this.#records.inc(records);
    this.#bytes.inc(bytes);
    this.#nullFields.inc(nullFields);
    this.#fields.inc(fields);
    this.#nullFieldRate.set(this.#nullFieldRateValue());
    this.#schemaViolations.inc(schemaViolations);
    this.#duplicates.inc(duplicates);
    if (newest !== undefined && (s.newestSourceMs === undefined || newest > s.newestSourceMs)) {
      s.newestSourceMs = newest;
      this.#newestSource.set(newest / 1000);
    }
  }

  /**
   * Closes a run: counts it by result, records its extraction time, and on success stamps the last
   * successful run; on failure also counts `error` (its kind: a RuntimeError's code) and keeps its
   * message as the last error.
   */
  recordRun(result: RunResult, error?: unknown, options: RunOptions = {}): void {
    if (result !== 'success' && result !== 'failure') {
      throw new RuntimeError('internal', `recordRun: result must be "success" or "failure" (got ${String(result)})`);
    }
    const s = this.#state;
    const durationMs =
      options.durationMs === undefined ? s.runDurationMs : checkDuration('recordRun', options.durationMs);
    s.runDurationMs = 0;
    s.lastDurationMs = durationMs;
    s.runs += 1;
    this.#runs.inc({ result });
    this.#duration.observe(durationMs / 1000);
    this.#lastDuration.set(durationMs);
    if (result === 'success') {
      s.lastSuccessMs = this.#now();
      this.#lastSuccess.set(s.lastSuccessMs / 1000);
    } else {
      s.failedRuns += 1;
      this.#countError(error === undefined ? 'run failed (no error given)' : error, errorKind(error));
    }
    this.#errorRate.set(this.#errorRateValue());
  }

  /** Counts an error that did not end a run (a retried request, a skipped record …). */
  recordError(error: unknown, kind: string = errorKind(error)): void {
    this.#countError(error, kind);
  }

  /** Counts one answered health check. */
  recordHealthCheck(passed: boolean): void {
    const s = this.#state;
    if (passed) s.checksPassed += 1;
    else s.checksFailed += 1;
    this.#healthChecks.inc({ result: passed ? 'passed' : 'failed' });
    this.#uptime.set(this.#uptimeValue());
  }

  /** The metrics as the Monitor agent sees them. */
  snapshot(): ConnectorMetrics {
    const s = this.#state;
    const metrics: ConnectorMetrics = {
      healthChecksPassed: s.checksPassed,
      healthChecksFailed: s.checksFailed,
      uptimePercent: this.#uptimeValue(),
      extractionDurationMs: s.lastDurationMs,
      recordsProcessed: s.records,
      bytesProcessed: s.bytes,
      nullFieldRate: this.#nullFieldRateValue(),
      schemaViolations: s.schemaViolations,
      duplicateRecords: s.duplicates,
      lastSuccessfulRun: s.lastSuccessMs === undefined ? null : new Date(s.lastSuccessMs),
      dataLatencyMinutes: this.#latencyMinutes(),
      errorCount: s.errors,
      errorRate: this.#errorRateValue(),
    };
    if (s.lastError !== undefined) metrics.lastError = s.lastError;
    return metrics;
  }

  /** The Prometheus text exposition (format 0.0.4) of every metric. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of `metricsText()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** An error's message as the metrics show it: secrets masked, whitespace collapsed, truncated. */
  errorMessage(error: unknown): string {
    const raw =
      error instanceof Error ? error.message || error.name : typeof error === 'string' ? error : safeString(error);
    const text = this.redactor.text(raw).replace(/\s+/g, ' ').trim() || 'error';
    return truncate(text, this.#maxErrorLength);
  }

  #countError(error: unknown, kind: string): void {
    const s = this.#state;
    s.errors += 1;
    s.lastError = this.errorMessage(error);
    this.#errors.inc({ kind });
    // An info metric has one series: the current error replaces the previous one.
    this.#lastErrorInfo.reset();
    this.#lastErrorInfo.set({ kind, message: s.lastError }, 1);
    this.#lastErrorTime.set(this.#now() / 1000);
  }

  #nullFieldRateValue(): number {
    const s = this.#state;
    return s.fields === 0 ? 0 : s.nullFields / s.fields;
  }

  #errorRateValue(): number {
    const s = this.#state;
    return s.runs === 0 ? 0 : s.failedRuns / s.runs;
  }

  #uptimeValue(): number {
    const s = this.#state;
    const checks = s.checksPassed + s.checksFailed;
    return checks === 0 ? 100 : (100 * s.checksPassed) / checks;
  }

  #latencyMinutes(): number {
    const newest = this.#state.newestSourceMs;
    return newest === undefined ? 0 : Math.max(0, this.#now() - newest) / 60_000;
  }
}

function checkDuration(method: string, durationMs: number): number {
  if (!Number.isFinite(durationMs) || durationMs < 0) {
    throw new RuntimeError('internal', `${method}: durationMs must be a finite number ≥ 0 (got ${String(durationMs)})`);
  }
  return durationMs;
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** At most `max` characters (code points, so no surrogate pair is split), ending in `…` when cut. */
function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

// ---------------------------------------------------------------------------------------------
// Reading /metrics back
// ---------------------------------------------------------------------------------------------

/** One sample line of the text exposition format. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * The samples of a Prometheus text exposition (format 0.0.4): comments and blank lines skipped,
 * label values unescaped, `NaN`/`+Inf`/`-Inf` understood. A malformed line is a `corrupt` error that
 * names its line number.
 */
export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  const lines = text.split('\n');
  lines.forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const sample = parseSampleLine(line);
    if (typeof sample === 'string') {
      throw new RuntimeError('corrupt', `metrics line ${index + 1}: ${sample}: ${truncate(line, 120)}`);
    }
    samples.push(sample);
  });
  return samples;
}

function parseSampleLine(line: string): MetricSample | string {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) return 'expected a metric name';
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i += 1;
    for (;;) {
      while (line[i] === ' ' || line[i] === '\t') i += 1;
      if (line[i] === '}') {
        i += 1;
        break;
      }
      const labelMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!labelMatch) return 'expected a label name';
      const labelName = labelMatch[0];
      i += labelName.length;
      while (line[i] === ' ') i += 1;
      if (line[i] !== '=') return `expected "=" after label ${labelName}`;
      i += 1;
      while (line[i] === ' ') i += 1;
      if (line[i] !== '"') return `expected a quoted value for label ${labelName}`;
      i += 1;
      let value = '';
      for (;;) {
        const ch = line[i];
        if (ch === undefined) return `unterminated value for label ${labelName}`;
        i += 1;
        if (ch === '"') break;
        if (ch === '\\') {
          const next = line[i];
          i += 1;
          if (next === 'n') value += '\n';
          else if (next === '\\' || next === '"') value += next;
          else if (next === undefined) return `unterminated value for label ${labelName}`;
          else value += `\\${next}`;
        } else value += ch;
      }
      labels[labelName] = value;
      while (line[i] === ' ') i += 1;
      if (line[i] === ',') i += 1;
      else if (line[i] !== '}') return 'expected "," or "}" after a label';
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  const valueToken = rest[0];
  if (valueToken === undefined || valueToken === '' || rest.length > 2)
    return 'expected a value (and an optional timestamp)';
  const value = parseValue(valueToken);
  if (value === undefined) return `"${valueToken}" is not a number`;
  return { name, labels, value };
}

function parseValue(token: string): number | undefined {
  const lower = token.toLowerCase();
  if (lower === 'nan') return NaN; // prom-client writes `Nan`
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(token)) return undefined;
  return Number(token);
}

export interface ParseConnectorMetricsOptions {
  /** Only series of this connector (when one exposition carries several). */
  readonly connectorId?: string;
}

/**
 * Reads a connector's /metrics text back into the spec's `ConnectorMetrics`: the Monitor agent's
 * scraper. Series of a metric are summed (errors of every kind); a derived gauge that is missing is
 * derived from its counters. Text without a single connector metric is a `corrupt` error.
 */
export function parseConnectorMetrics(text: string, options: ParseConnectorMetricsOptions = {}): ConnectorMetrics {
  const byName = new Map<string, MetricSample[]>();
  for (const sample of parsePrometheusText(text)) {
    if (options.connectorId !== undefined && sample.labels.connector_id !== options.connectorId) continue;
    const list = byName.get(sample.name);
    if (list) list.push(sample);
    else byName.set(sample.name, [sample]);
  }
  const known: readonly string[] = Object.values(N);
  if (![...byName.keys()].some((name) => known.includes(name))) {
    const whose = options.connectorId === undefined ? '' : ` of connector ${options.connectorId}`;
    throw new RuntimeError('corrupt', `no connector metrics${whose} in the text (expected ${N.records}, ${N.runs} …)`);
  }

  const series = (name: string, where: Readonly<Record<string, string>> = {}) =>
    (byName.get(name) ?? []).filter((s) => Object.entries(where).every(([k, v]) => s.labels[k] === v));
  const sum = (name: string, where?: Readonly<Record<string, string>>) =>
    series(name, where).reduce((total, s) => total + s.value, 0);
  const gauge = (name: string, fallback: () => number): number => {
    const found = series(name);
    return found.length === 0 ? fallback() : found.reduce((total, s) => total + s.value, 0);
  };

  const passed = sum(N.healthChecks, { result: 'passed' });
  const failed = sum(N.healthChecks, { result: 'failed' });
  const runs = sum(N.runs);
  const failedRuns = sum(N.runs, { result: 'failure' });
  const fields = sum(N.fields);
  const lastSuccessSeconds = sum(N.lastSuccess);
  const newestSourceSeconds = sum(N.newestSourceTime);

  const metrics: ConnectorMetrics = {
    healthChecksPassed: passed,
    healthChecksFailed: failed,
    uptimePercent: gauge(N.uptime, () => (passed + failed === 0 ? 100 : (100 * passed) / (passed + failed))),
    extractionDurationMs: sum(N.lastExtractionDuration),
    recordsProcessed: sum(N.records),
    bytesProcessed: sum(N.bytes),
    nullFieldRate: gauge(N.nullFieldRate, () => (fields === 0 ? 0 : sum(N.nullFields) / fields)),
    schemaViolations: sum(N.schemaViolations),
    duplicateRecords: sum(N.duplicates),
    lastSuccessfulRun: lastSuccessSeconds > 0 ? new Date(Math.round(lastSuccessSeconds * 1000)) : null,
    dataLatencyMinutes: gauge(N.dataLatency, () =>
      newestSourceSeconds > 0 ? Math.max(0, Date.now() - newestSourceSeconds * 1000) / 60_000 : 0,
    ),
    errorCount: sum(N.errors),
    errorRate: gauge(N.errorRate, () => (runs === 0 ? 0 : failedRuns / runs)),
  };
  const lastError = series(N.lastErrorInfo)
    .filter((s) => s.value === 1)
    .at(-1)?.labels.message;
  if (lastError !== undefined) metrics.lastError = lastError;
  return metrics;
}
