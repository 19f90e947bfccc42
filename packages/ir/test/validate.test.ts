import { describe, expect, it } from 'vitest';
import { formatPath, formatProblem, validateManifest, type Problem } from '../src/index.js';
import { example } from './fixtures.js';

type Manifest = Record<string, any>;

function errors(manifest: unknown): Problem[] {
  return validateManifest(manifest).problems.filter((p) => p.severity === 'error');
}
function warnings(manifest: unknown): Problem[] {
  return validateManifest(manifest).problems.filter((p) => p.severity === 'warning');
}
function errorAt(manifest: unknown, path: string): Problem {
  const found = errors(manifest).filter((p) => formatPath(p.path) === path);
  expect(found.map(formatProblem), `errors at ${path}`).not.toHaveLength(0);
  return found[0]!;
}

/** Applies a change to a copy of the CDC example; returns the copy. */
function pg(change: (m: Manifest) => void): Manifest {
  const m = example('postgres-orders-cdc');
  change(m);
  return m;
}
function sf(change: (m: Manifest) => void): Manifest {
  const m = example('salesforce-opportunity');
  change(m);
  return m;
}

describe('the examples', () => {
  it('are valid with no warnings', () => {
    for (const m of [example('postgres-orders-cdc'), example('salesforce-opportunity')]) {
      const result = validateManifest(m);
      expect(result.problems.map(formatProblem)).toEqual([]);
      expect(result.ok).toBe(true);
    }
  });
});

describe('structure', () => {
  it('reports a missing required field with its path', () => {
    const p = errorAt(
      pg((m) => delete m.governance.owner),
      'governance.owner',
    );
    expect(p.code).toBe('missing_field');
  });

  it('suggests the closest key for an unknown key', () => {
    const p = errorAt(
      pg((m) => (m.destination.fromat = 'delta')),
      'destination.fromat',
    );
    expect(p.code).toBe('unknown_key');
    expect(p.suggestion).toBe('format');
  });

  it('suggests the closest value for a misspelt enum, with expected and found', () => {
    const p = errorAt(
      pg((m) => (m.destination.format = 'parket')),
      'destination.format',
    );
    expect(p).toMatchObject({ code: 'invalid_enum', suggestion: 'parquet', found: '"parket"' });
    expect(p.expected).toContain('delta');
  });

  it('checks every enum of the spec', () => {
    const cases: Array<[(m: Manifest) => void, string]> = [
      [(m) => (m.source.type = 'soap'), 'source.type'],
      [(m) => (m.source.auth.method = 'kerberos'), 'source.auth.method'],
      [(m) => (m.schema.entities[0].fields[0].type = 'integer'), 'schema.entities[0].fields[0].type'],
      [(m) => (m.schema.updateStrategy = 'snapshot'), 'schema.updateStrategy'],
      [(m) => (m.schema.cdcConfig.cursorType = 'lsn'), 'schema.cdcConfig.cursorType'],
      [(m) => (m.destination.compression = 'lz4'), 'destination.compression'],
      [(m) => (m.destination.writeMode = 'upsert'), 'destination.writeMode'],
      [(m) => (m.schedule.type = 'daily'), 'schedule.type'],
      [(m) => (m.governance.classification = 'secret'), 'governance.classification'],
      [(m) => (m.governance.piiHandling = 'drop'), 'governance.piiHandling'],
      [
        (m) =>
          (m.schema.relationships = [
            { from: { entity: 'orders', field: 'id' }, to: { entity: 'orders', field: 'id' }, type: 'one_to_few' },
          ]),
        'schema.relationships[0].type',
      ],
    ];
    for (const [change, path] of cases) expect(errorAt(pg(change), path).code).toBe('invalid_enum');
  });

  it('reports every problem at once', () => {
    const m = pg((m) => {
      m.source.connectionString = 'postgresql://app:hunter2@db/orders';
      m.destination.format = 'parquett';
      m.schedule.type = 'cron';
    });
    const paths = errors(m).map((p) => formatPath(p.path));
    expect(paths).toEqual(['source.connectionString', 'destination.format', 'schedule.expression']);
  });

  it('rejects a non-object document without throwing', () => {
    for (const doc of [null, 42, 'x', [], undefined]) {
      const result = validateManifest(doc);
      expect(result.ok).toBe(false);
      expect(result.problems[0]!.path).toEqual([]);
    }
  });
});

describe('update strategy rules', () => {
  it('incremental needs an incrementalKey', () => {
    expect(errors(sf((m) => m.schema.incrementalKey === 'SystemModstamp'))).toEqual([]);
    const p = errorAt(
      sf((m) => delete m.schema.incrementalKey),
      'schema.incrementalKey',
    );
    expect(p.code).toBe('missing_field');
  });

  it('incrementalKey must be a field of every entity', () => {
    const m = sf((m) => {
      m.schema.entities.push({
        name: 'Account',
        fields: [
          { name: 'Id', type: 'string', nullable: false },
          { name: 'LastModifiedDate', type: 'datetime', nullable: false },
        ],
      });
    });
    const p = errorAt(m, 'schema.incrementalKey');
    expect(p.message).toContain('entity "Account"');
    const typo = errorAt(
      sf((m) => (m.schema.incrementalKey = 'SystemModStamp')),
      'schema.incrementalKey',
    );
    expect(typo.suggestion).toBe('SystemModstamp');
  });

  it('cdc needs cdcConfig', () => {
    errorAt(
      pg((m) => delete m.schema.cdcConfig),
      'schema.cdcConfig',
    );
  });

  it('a timestamp cdc cursor must be a field; a log position need not be', () => {
    expect(errors(pg((m) => (m.schema.cdcConfig = { cursorField: 'xmin', cursorType: 'log_position' })))).toEqual([]);
    expect(errors(pg((m) => (m.schema.cdcConfig = { cursorField: 'created_at', cursorType: 'timestamp' })))).toEqual(
      [],
    );
    errorAt(
      pg((m) => (m.schema.cdcConfig = { cursorField: 'updated_at', cursorType: 'timestamp' })),
      'schema.cdcConfig.cursorField',
    );
  });

  it('warns when cdc does not merge, and when cdcConfig is unused', () => {
    const w = warnings(
      pg((m) => {
        m.destination.writeMode = 'append';
        delete m.destination.mergeKeys;
      }),
    );
    expect(w.map((p) => p.code)).toContain('cdc_without_merge');
    expect(
      warnings(sf((m) => (m.schema.cdcConfig = { cursorField: 'SystemModstamp', cursorType: 'timestamp' }))).map(
        (p) => p.code,
      ),
    ).toContain('unused_field');
  });
});

describe('destination rules', () => {
  it('merge needs mergeKeys that are fields', () => {
    errorAt(
      pg((m) => delete m.destination.mergeKeys),
      'destination.mergeKeys',
    );
    errorAt(
      pg((m) => (m.destination.mergeKeys = [])),
      'destination.mergeKeys',
    );
    const p = errorAt(
      pg((m) => (m.destination.mergeKeys = ['order_id'])),
      'destination.mergeKeys[0]',
    );
    expect(p.code).toBe('unknown_field');
  });

  it('partitionBy columns are fields or the derived dt', () => {
    expect(errors(pg((m) => (m.destination.partitionBy = ['dt', 'customer_id'])))).toEqual([]);
    const p = errorAt(
      pg((m) => (m.destination.partitionBy = ['dt', 'region'])),
      'destination.partitionBy[1]',
    );
    expect(p.message).toContain('"region"');
  });

  it('accepts s3, file:// and local lake paths and rejects other schemes', () => {
    for (const lakePath of ['s3://lake/landing/x/', 'file:///tmp/lake', './lake/orders', '/var/lake']) {
      expect(errors(pg((m) => (m.destination.lakePath = lakePath)))).toEqual([]);
    }
    expect(
      errorAt(
        pg((m) => (m.destination.lakePath = 'gs://bucket/x')),
        'destination.lakePath',
      ).code,
    ).toBe('unsupported_scheme');
    expect(
      errorAt(
        pg((m) => (m.destination.lakePath = 's3://A_/x')),
        'destination.lakePath',
      ).code,
    ).toBe('invalid_lake_path');
  });

  it('allows only format/compression pairs that exist', () => {
    const ok: Array<[string, string]> = [
      ['parquet', 'snappy'],
      ['parquet', 'gzip'],
      ['parquet', 'zstd'],
      ['delta', 'zstd'],
      ['json', 'gzip'],
      ['json', 'zstd'],
      ['avro', 'snappy'],
      ['avro', 'zstd'],
    ];
    for (const [format, compression] of ok) {
      expect(
        errors(
          sf((m) => {
            m.destination.format = format;
            m.destination.compression = compression;
          }),
        ),
      ).toEqual([]);
    }
    for (const [format, compression] of [
      ['json', 'snappy'],
      ['avro', 'gzip'],
    ]) {
      const p = errorAt(
        sf((m) => {
          m.destination.format = format;
          m.destination.compression = compression;
        }),
        'destination.compression',
      );
      expect(p.code).toBe('unsupported_compression');
    }
  });
});

describe('schedule rules', () => {
  it('cron needs a valid 5- or 6-field expression', () => {
    for (const expression of ['0 */15 * * * *', '*/15 * * * *', '0 2 * * MON-FRI', '0 0 12 ? * SUN']) {
      expect(errors(sf((m) => (m.schedule.expression = expression)))).toEqual([]);
    }
    errorAt(
      sf((m) => delete m.schedule.expression),
      'schedule.expression',
    );
    for (const expression of ['0 */15 * *', '61 * * * *', '* * * 13 *', '0 0 0 0 0 0 0', '*/0 * * * *']) {
      expect(
        errorAt(
          sf((m) => (m.schedule.expression = expression)),
          'schedule.expression',
        ).code,
      ).toBe('invalid_cron');
    }
  });

  it('interval needs intervalSeconds, event needs eventSource', () => {
    expect(errors(sf((m) => (m.schedule = { type: 'interval', intervalSeconds: 900 })))).toEqual([]);
    errorAt(
      sf((m) => (m.schedule = { type: 'interval' })),
      'schedule.intervalSeconds',
    );
    expect(errors(sf((m) => (m.schedule = { type: 'event', eventSource: '/hooks/opportunity' })))).toEqual([]);
    errorAt(
      sf((m) => (m.schedule = { type: 'event' })),
      'schedule.eventSource',
    );
    errorAt(
      sf((m) => (m.schedule = { type: 'interval', intervalSeconds: 1.5 })),
      'schedule.intervalSeconds',
    );
  });

  it('rejects a setting of another schedule type, naming the type it belongs to', () => {
    const p = errorAt(
      pg((m) => (m.schedule = { type: 'continuous', intervalSeconds: 5 })),
      'schedule.intervalSeconds',
    );
    expect(formatProblem(p)).toBe(
      'schedule.intervalSeconds: is not a setting of a continuous schedule (expected only with schedule type interval)',
    );
    expect(
      errorAt(
        sf((m) => (m.schedule.eventSource = '/hooks/x')),
        'schedule.eventSource',
      ).code,
    ).toBe('unknown_key');
  });

  it('says which schedule type needs a missing field, and what it looks like', () => {
    expect(
      formatProblem(
        errorAt(
          sf((m) => delete m.schedule.expression),
          'schedule.expression',
        ),
      ),
    ).toBe(
      'schedule.expression: a cron schedule needs expression (expected a cron expression such as "0 */15 * * * *")',
    );
    expect(
      formatProblem(
        errorAt(
          sf((m) => (m.schedule = { type: 'interval' })),
          'schedule.intervalSeconds',
        ),
      ),
    ).toBe(
      'schedule.intervalSeconds: an interval schedule needs intervalSeconds (expected a whole number of seconds such as 900)',
    );
  });

  it('a misspelt schedule type gets "did you mean" and the other mistakes of the schedule too', () => {
    const problems = errors(sf((m) => (m.schedule = { type: 'corn', expresion: '0 * * * *' })));
    expect(problems.map(formatProblem)).toEqual([
      'schedule.type: is not one of the allowed values (expected one of cron, interval, event, continuous, found "corn"); did you mean "cron"?',
      'schedule.expresion: unknown key "expresion"; did you mean "expression"?',
    ]);
  });
});

describe('identity rules', () => {
  it('id follows connector_<provider>_<entity>_v<major>', () => {
    for (const id of [
      'orders',
      'connector_postgres_orders',
      'Connector_postgres_orders_v1',
      'connector_postgres_orders_v1.0',
    ]) {
      expect(
        errorAt(
          pg((m) => (m.id = id)),
          'id',
        ).code,
      ).toBe('invalid_id');
    }
    expect(
      errorAt(
        pg((m) => (m.id = 'connector_mysql_orders_v1')),
        'id',
      ).code,
    ).toBe('id_provider_mismatch');
    expect(
      errorAt(
        pg((m) => (m.version = '2.1.0')),
        'id',
      ).code,
    ).toBe('id_version_mismatch');
    expect(warnings(pg((m) => (m.id = 'connector_postgres_invoices_v1'))).map((p) => p.code)).toEqual([
      'id_entity_mismatch',
    ]);
  });

  it('version is semver', () => {
    expect(errors(pg((m) => (m.version = '1.0.0-rc.1+build.5')))).toEqual([]);
    for (const version of ['1.0', 'v1.0.0', '01.0.0']) {
      errorAt(
        pg((m) => (m.version = version)),
        'version',
      );
    }
  });
});

describe('source rules', () => {
  it('jdbc needs a connection string; APIs need a base URL', () => {
    expect(
      formatProblem(
        errorAt(
          pg((m) => delete m.source.connectionString),
          'source.connectionString',
        ),
      ),
    ).toBe(
      'source.connectionString: a jdbc source needs a connectionString (expected an env-var reference such as ${POSTGRES_CONNECTION_STRING})',
    );
    expect(
      errorAt(
        sf((m) => delete m.source.baseUrl),
        'source.baseUrl',
      ).message,
    ).toBe('a rest_api source needs a baseUrl');
    expect(
      errorAt(
        sf((m) => {
          m.source.type = 'graphql';
          delete m.source.baseUrl;
        }),
        'source.baseUrl',
      ).message,
    ).toBe('a graphql source needs a baseUrl');
    expect(
      errorAt(
        pg((m) => {
          m.source.type = 'stream';
          delete m.source.connectionString;
        }),
        'source.connectionString',
      ).message,
    ).toBe('a stream source needs a connectionString');
  });

  it('a field every source type has is just required, whatever the type', () => {
    expect(
      formatProblem(
        errorAt(
          pg((m) => delete m.source.auth),
          'source.auth',
        ),
      ),
    ).toBe('source.auth: is required (expected object, found nothing)');
  });

  it('a file source names where its files are; a custom source need not', () => {
    const file = (change: (source: Manifest) => void) =>
      pg((m) => {
        m.source = { type: 'file', provider: 'postgres', auth: { method: 'none', config: {} } };
        change(m.source);
      });
    expect(
      errorAt(
        file(() => {}),
        'source.connectionString',
      ).message,
    ).toBe('a file source needs a connectionString or a baseUrl');
    expect(errors(file((s) => (s.connectionString = 'file:///data/orders')))).toEqual([]);
    expect(errors(file((s) => (s.baseUrl = 'https://s3.eu-west-1.amazonaws.com')))).toEqual([]);
    expect(errors(file((s) => (s.type = 'custom')))).toEqual([]);
  });

  it('rejects a field of another source type, and one with no type gets the field checked too', () => {
    expect(
      formatProblem(
        errorAt(
          pg((m) => (m.source.baseUrl = 'https://db.example.com')),
          'source.baseUrl',
        ),
      ),
    ).toBe(
      'source.baseUrl: is not a setting of a jdbc source (expected only with source type rest_api or graphql or file or custom)',
    );
  });

  it('a misspelt source type gets "did you mean", and the rest of the source is still checked', () => {
    const problems = errors(
      pg((m) => {
        m.source.type = 'jdcb';
        m.source.auth.method = 'basci';
        m.source.conectionString = m.source.connectionString;
      }),
    );
    expect(problems.map((p) => [formatPath(p.path), p.suggestion])).toEqual([
      ['source.type', 'jdbc'],
      ['source.auth.method', 'basic'],
      ['source.conectionString', 'connectionString'],
    ]);
  });

  it('each auth method names what it needs as env vars', () => {
    errorAt(
      sf((m) => delete m.source.auth.config.clientSecretEnvVar),
      'source.auth.config.clientSecretEnvVar',
    );
    errorAt(
      sf((m) => (m.source.auth = { method: 'api_key', config: { headerName: 'X-API-Key' } })),
      'source.auth.config.apiKeyEnvVar',
    );
    errorAt(
      sf((m) => (m.source.auth = { method: 'bearer', config: {} })),
      'source.auth.config.tokenEnvVar',
    );
    errorAt(
      pg((m) => (m.source.auth.config = { usernameEnvVar: 'PGUSER' })),
      'source.auth.config.passwordEnvVar',
    );
    expect(
      errors(pg((m) => (m.source.auth.config = { usernameEnvVar: 'PGUSER', passwordEnvVar: 'PGPASSWORD' }))),
    ).toEqual([]);
    errorAt(
      sf((m) => (m.source.auth.config.clientIdEnvVar = 'my client id')),
      'source.auth.config.clientIdEnvVar',
    );
  });
});

describe('schema consistency', () => {
  it('rejects duplicate entities and fields', () => {
    errorAt(
      pg((m) => m.schema.entities[0].fields.push({ name: 'id', type: 'string', nullable: true })),
      'schema.entities[0].fields[4].name',
    );
    errorAt(
      pg((m) => m.schema.entities.push(structuredClone(m.schema.entities[0]))),
      'schema.entities[1].name',
    );
  });

  it('checks primary keys and relationships against the fields', () => {
    errorAt(
      pg((m) => (m.schema.entities[0].primaryKey = ['order_id'])),
      'schema.entities[0].primaryKey[0]',
    );
    const rel = (entity: string, field: string) => ({
      from: { entity: 'orders', field: 'customer_id' },
      to: { entity, field },
      type: 'one_to_many',
    });
    expect(errors(pg((m) => (m.schema.relationships = [rel('orders', 'id')])))).toEqual([]);
    const p = errorAt(
      pg((m) => (m.schema.relationships = [rel('order', 'id')])),
      'schema.relationships[0].to.entity',
    );
    expect(p.suggestion).toBe('orders');
    errorAt(
      pg((m) => (m.schema.relationships = [rel('orders', 'uuid')])),
      'schema.relationships[0].to.field',
    );
  });
});

describe('governance', () => {
  it('keeps SLO percentages within 0-100 and retention positive', () => {
    errorAt(
      pg((m) => (m.governance.contract.slo.availabilityPercent = 120)),
      'governance.contract.slo.availabilityPercent',
    );
    errorAt(
      pg((m) => (m.governance.retentionDays = 0)),
      'governance.retentionDays',
    );
    errorAt(
      pg((m) => (m.governance.contract.version = 'first')),
      'governance.contract.version',
    );
  });
});
