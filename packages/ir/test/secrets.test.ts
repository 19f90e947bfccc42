import { describe, expect, it } from 'vitest';
import {
  connectionStringSecret,
  credentialValues,
  findLiteralSecrets,
  formatPath,
  redactSecrets,
  secretKind,
  validateManifest,
} from '../src/index.js';
import { example } from './fixtures.js';

describe('literal secrets', () => {
  it('finds a password in a connection string and never echoes it', () => {
    const m = example('postgres-orders-cdc');
    m.source.connectionString = 'postgresql://app:hunter2@db/orders';
    const result = validateManifest(m);
    expect(result.ok).toBe(false);
    const [problem] = result.problems;
    expect(problem).toMatchObject({ code: 'literal_secret', path: ['source', 'connectionString'] });
    expect(problem!.message).toContain('env-var reference');
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });

  it('accepts env-var references in place of credentials', () => {
    for (const value of [
      '${POSTGRES_CONNECTION_STRING}',
      'postgresql://${PGUSER}:${PGPASSWORD}@db:5432/orders',
      'postgresql://reader@db/orders',
      'host=db dbname=orders password=${PGPASSWORD}',
    ]) {
      expect(connectionStringSecret(value), value).toBeUndefined();
    }
  });

  it('finds credentials in query parameters and key=value strings', () => {
    expect(connectionStringSecret('mysql://db/orders?user=app&password=s3cret')?.redacted).toBe(
      'mysql://db/orders?user=app&password=***',
    );
    expect(connectionStringSecret('host=db dbname=orders password=s3cret')?.redacted).toBe(
      'host=db dbname=orders password=***',
    );
    expect(connectionStringSecret('jdbc:sqlserver://db;user=app;password=s3cret')).toBeDefined();
  });

  it('recognises token-looking values anywhere', () => {
    const tokens = [
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      'AKIAIOSFODNN7EXAMPLE',
      'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8',
      'sk_live_' + '4eC39HqLyjWDarjtT1zdp7dc',
      'xoxb-123456789012-abcdefghijkl',
      'Bearer abcdefgh12345678',
      'q8Xz3LmN7pRt2VwY9bKc4HdJ6fGs1TaE',
    ];
    for (const token of tokens) expect(secretKind(token), token).toBeDefined();
    const ordinary = [
      'connector_salesforce_opportunity_v1',
      '/services/data/v58.0/sobjects/Opportunity',
      'SELECT Id, Name FROM Opportunity WHERE SystemModstamp > :cursor',
      'https://login.salesforce.com/services/oauth2/token',
      's3://lake/landing/salesforce/opportunity/',
      'SALESFORCE_CLIENT_SECRET',
      'revenue-data-team',
    ];
    for (const text of ordinary) expect(secretKind(text), text).toBeUndefined();
  });

  it('rejects credential-named keys holding literals, wherever they are', () => {
    const m = example('salesforce-opportunity');
    m.source.auth.config.clientSecret = 'not-a-reference';
    m.schema.entities[0].endpoint = 'Bearer abcdefgh12345678';
    const found = findLiteralSecrets(m).map((p) => formatPath(p.path));
    expect(found).toEqual(['source.auth.config.clientSecret', 'schema.entities[0].endpoint']);
    const result = validateManifest(m);
    expect(JSON.stringify(result)).not.toContain('not-a-reference');
    expect(JSON.stringify(result)).not.toContain('abcdefgh12345678');
  });

  it('does not echo a token put where an env-var name belongs', () => {
    const m = example('salesforce-opportunity');
    m.source.auth.config.clientSecretEnvVar = 'q8Xz3LmN7pRt2VwY9bKc4HdJ6fGs1TaE';
    const result = validateManifest(m);
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain('q8Xz3LmN7pRt2VwY9bKc4HdJ6fGs1TaE');
  });
});

describe('redactSecrets', () => {
  it('masks the credential forms of a free text: quoted and spaced parameters, JSON members, Authorization values', () => {
    const text = [
      "host=db user=app password='with space' sslmode=require",
      'dsn: (pwd = "x y z", port=5432)',
      'https://api.example.com/v1?api_key=AKX123&page=2&sig=zzz&access_token=at1&client_secret=cs1',
      '{"user":"a","password":"pw-in-json","refresh_token":"rt-1"}',
      'header Bearer eyJhbGciOiJIUzI1NiJ9.abc.def',
      'Basic authentication failed for user app',
    ].join('\n');
    const redacted = redactSecrets(text);
    for (const secret of ['with space', 'x y z', 'AKX123', 'zzz', 'at1', 'cs1', 'pw-in-json', 'rt-1', 'eyJhbG']) {
      expect(redacted).not.toContain(secret);
    }
    expect(redacted).toBe(
      [
        'host=db user=app password=*** sslmode=require',
        'dsn: (pwd = ***, port=5432)',
        'https://api.example.com/v1?api_key=***&page=2&sig=***&access_token=***&client_secret=***',
        '{"user":"a","password":"***","refresh_token":"***"}',
        'header Bearer ***',
        'Basic authentication failed for user app',
      ].join('\n'),
    );
    expect(redactSecrets(redacted)).toBe(redacted);
  });

  it('leaves env-var references and masked values as they are', () => {
    const text = 'password=${PGPASSWORD} "token":"***" secret = \'${S}\'';
    expect(redactSecrets(text)).toBe(text);
  });

  it('ends a URL written in prose before the punctuation that closes the sentence', () => {
    expect(redactSecrets('from mysql://app:p%40ss@db/shop?sslpassword=x. Then (see https://u:pw@h/x).')).toBe(
      'from mysql://app:***@db/shop?sslpassword=***. Then (see https://u:***@h/x).',
    );
  });
});

describe('findLiteralSecrets in free text', () => {
  it('finds a password= parameter inside a sentence, not only in a key=value connection string', () => {
    const problems = findLiteralSecrets({ notes: ['connect failed: password=hunter2 was rejected'] });
    expect(problems.map((problem) => formatPath(problem.path))).toEqual(['notes[0]']);
    expect(problems[0]!.message).toContain('a text with the "password" parameter');
    expect(JSON.stringify(problems)).not.toContain('hunter2');
    expect(findLiteralSecrets({ notes: ['password=${PGPASSWORD} and password=*** are fine'] })).toEqual([]);
  });
});

describe('credentialValues', () => {
  it('lists the password and credential parameters of a connection string, as written and decoded', () => {
    expect(credentialValues('postgresql://app:p%40ss/w@db:5432/shop?sslpassword=k%2Fey&sslmode=require')).toEqual([
      'p%40ss/w',
      'p@ss/w',
      'k%2Fey',
      'k/ey',
    ]);
    expect(credentialValues("host=db user=app password='with space' sslmode=require")).toEqual(['with space']);
    expect(credentialValues('postgresql://app:${PGPASSWORD}@db/shop?password=***')).toEqual([]);
    expect(credentialValues('postgresql://app@db:5432/shop')).toEqual([]);
  });
});
