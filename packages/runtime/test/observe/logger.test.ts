import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import {
  createLogger,
  createRedactor,
  isSensitiveKey,
  secretValuesFromEnv,
  type LoggerOptions,
} from '../../src/observe/logger.js';

function capture(options: Omit<LoggerOptions, 'stream' | 'connectorId' | 'version'> = {}) {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => (text += chunk));
  const logger = createLogger({ connectorId: 'connector_pg_orders_v1', version: '1.0.0', stream, ...options });
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const ENV = {
  POSTGRES_CONNECTION_STRING: 'postgres://app:Pa%40ss-w0rd-XYZ@db.internal:5432/orders?sslmode=require',
  STRIPE_API_KEY: 'sk_test_51Hx9QkL2eZvKYlo2C0abcdEFG',
  MYSQL_DSN: "host=db user=app password='dsn pass 77' dbname=x",
  EMPTY: '',
  PORT: '5432-not-a-secret-but-referenced',
} satisfies NodeJS.ProcessEnv;

describe('secretValuesFromEnv', () => {
  it('collects non-empty values and the passwords inside connection strings', () => {
    const secrets = secretValuesFromEnv(
      ['POSTGRES_CONNECTION_STRING', 'STRIPE_API_KEY', 'MYSQL_DSN', 'EMPTY', 'UNSET'],
      ENV,
    );
    expect(secrets).toEqual(
      expect.arrayContaining([
        ENV.POSTGRES_CONNECTION_STRING,
        'Pa%40ss-w0rd-XYZ',
        'Pa@ss-w0rd-XYZ',
        ENV.STRIPE_API_KEY,
        ENV.MYSQL_DSN,
        'dsn pass 77',
      ]),
    );
    expect(secrets).not.toContain('');
    expect(secretValuesFromEnv([], ENV)).toEqual([]);
  });
});

describe('createLogger', () => {
  it('writes one JSON object per line with time, level, msg, connector, version and fields', () => {
    const { logger, lines } = capture();
    logger.info('batch landed', { records: 10, table: 'orders', big: 12n, at: new Date(0) });
    logger.child({ run: 7 }).warn('slow', { ms: 900 });
    logger.debug('dropped below info');
    const [first, second, ...rest] = lines();
    expect(rest).toEqual([]);
    expect(first).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      level: 'info',
      msg: 'batch landed',
      connector: 'connector_pg_orders_v1',
      version: '1.0.0',
      records: 10,
      table: 'orders',
      big: '12',
      at: '1970-01-01T00:00:00.000Z',
    });
    expect(second).toMatchObject({ level: 'warn', msg: 'slow', run: 7, ms: 900 });
    expect(Object.keys(first ?? {}).slice(0, 5)).toEqual(['time', 'level', 'msg', 'connector', 'version']);
  });

  it('never writes a secret from the environment: messages, nested fields, keys, errors, children', () => {
    const secrets = secretValuesFromEnv(Object.keys(ENV), ENV);
    const { logger, text, lines } = capture({ secrets, level: 'debug' });
    const cause = new Error(`auth failed for ${ENV.STRIPE_API_KEY}`);
    const error = new RuntimeError('store', `cannot connect with ${ENV.POSTGRES_CONNECTION_STRING}`, { cause });
    const nested: Record<string, unknown> = {
      config: { source: { connectionString: ENV.POSTGRES_CONNECTION_STRING, hosts: [`x ${ENV.STRIPE_API_KEY} y`] } },
      decoded: 'password is Pa@ss-w0rd-XYZ',
      [ENV.STRIPE_API_KEY]: 'secret as a key',
      dsn: ENV.MYSQL_DSN,
      headers: new Map([['x-note', `bearer ${ENV.STRIPE_API_KEY}`]]),
      list: new Set([ENV.PORT]),
      error,
    };
    nested.self = nested;
    logger.error(`run failed: ${ENV.POSTGRES_CONNECTION_STRING}`, nested);
    logger.child({ dsn: ENV.MYSQL_DSN, password: 'dsn pass 77' }).info(`key ${ENV.STRIPE_API_KEY}`);
    logger.debug('debug error', { err: new Error(`stack holds ${ENV.STRIPE_API_KEY}`) });

    const out = text();
    for (const value of [...secrets, 'w0rd-XYZ', 'sk_test_51', 'dsn pass']) expect(out).not.toContain(value);
    const [first, second, third] = lines();
    expect(first?.msg).toBe('run failed: ***');
    expect(first).toMatchObject({
      config: { source: { connectionString: '***', hosts: ['x *** y'] } },
      decoded: 'password is ***',
      '***': 'secret as a key',
      self: '[Circular]',
      error: {
        name: 'RuntimeError',
        code: 'store',
        message: 'cannot connect with ***',
        cause: { name: 'Error', message: 'auth failed for ***' },
      },
    });
    expect(second).toMatchObject({ msg: 'key ***', dsn: '***', password: '***' });
    expect(third?.err).toMatchObject({
      name: 'Error',
      message: 'stack holds ***',
      stack: expect.stringContaining('at '),
    });
  });

  it('masks connection-string passwords, credential parameters and bearer tokens it was not told about', () => {
    const { logger, lines } = capture();
    logger.info('connecting to postgres://app:tops3cret@db:5432/orders and mysql://root:p@ss@h/db', {
      url: 'mongodb+srv://svc:an0ther@cluster0.example.net/?retryWrites=true',
      dsn: "host=db user=app password='with space' sslmode=require",
      query: 'https://api.example.com/v1?api_key=AKX123&page=2&sig=zzz',
      body: '{"user":"a","password":"pw-in-json"}',
      header: 'Bearer eyJhbGciOiJIUzI1NiJ9.abc.def',
      text: 'Basic authentication failed for user app',
      url2: new URL('https://u:urlpass@example.com/x'),
    });
    const [line] = lines();
    expect(line?.msg).toBe('connecting to postgres://app:***@db:5432/orders and mysql://root:***@h/db');
    expect(line).toMatchObject({
      url: 'mongodb+srv://svc:***@cluster0.example.net/?retryWrites=true',
      dsn: 'host=db user=app password=*** sslmode=require',
      query: 'https://api.example.com/v1?api_key=***&page=2&sig=***',
      body: '{"user":"a","password":"***"}',
      header: 'Bearer ***',
      text: 'Basic authentication failed for user app',
      url2: 'https://u:***@example.com/x',
    });
  });

  it('masks values under credential-named keys and keeps pointers to them', () => {
    const { logger, lines } = capture();
    logger.info('auth', {
      password: 'a',
      dbPassword: 'b',
      client_secret: 'c',
      accessToken: 'd',
      apiKey: 'e',
      'X-Api-Key': 'f',
      Authorization: 'g',
      credentials: { user: 'u', pass: 'p' },
      tokenEnvVar: 'STRIPE_API_KEY',
      tokenUrl: 'https://login.example.com/token',
      bypass: 'kept',
      key: 'orders/part-0.parquet',
      password_hint: null,
    });
    expect(lines()[0]).toMatchObject({
      password: '***',
      dbPassword: '***',
      client_secret: '***',
      accessToken: '***',
      apiKey: '***',
      'X-Api-Key': '***',
      Authorization: '***',
      credentials: '***',
      tokenEnvVar: 'STRIPE_API_KEY',
      tokenUrl: 'https://login.example.com/token',
      bypass: 'kept',
      key: 'orders/part-0.parquet',
      password_hint: null,
    });
    expect(isSensitiveKey('APIKey')).toBe(true);
    expect(isSensitiveKey('secretsManagerArn')).toBe(false);
  });

  it('logs errors as { name, code, message } without a stack above debug', () => {
    const { logger, lines } = capture({ level: 'warn' });
    logger.info('dropped');
    logger.error('failed', { error: new RuntimeError('conflict', 'lost the race') });
    const [line, ...rest] = lines();
    expect(rest).toEqual([]);
    expect(line?.error).toEqual({ name: 'RuntimeError', code: 'conflict', message: 'lost the race' });
    expect(logger.isLevelEnabled('error')).toBe(true);
    expect(logger.isLevelEnabled('info')).toBe(false);
  });

  it('does not let fields overwrite the core keys, and survives hostile values', () => {
    const { logger, lines } = capture();
    const hostile = {
      get boom(): never {
        throw new Error('getter');
      },
    };
    logger.info('one', { level: 'fake', msg: 'fake', time: 1 });
    logger.info('two', { hostile });
    logger.info('three', { buf: Buffer.from('raw bytes'), fn: () => 1, sym: Symbol('s'), nan: Number.NaN });
    const [one, two, three] = lines();
    expect(one).toMatchObject({ level: 'info', msg: 'one', field_level: 'fake', field_msg: 'fake', field_time: 1 });
    expect(two).toMatchObject({ msg: 'two', fields: '[unserializable]' });
    expect(three).toEqual(expect.objectContaining({ msg: 'three', buf: '[binary 9 bytes]', nan: null }));
    expect(three).not.toHaveProperty('fn');
  });
});

describe('createRedactor', () => {
  it('masks a secret in its URL-encoded and JSON-escaped forms too', () => {
    const redactor = createRedactor(['p@ss "q"/r']);
    expect(redactor.text(`a p@ss "q"/r b ${encodeURIComponent('p@ss "q"/r')} c ${JSON.stringify('p@ss "q"/r')}`)).toBe(
      'a *** b *** c "***"',
    );
  });
});

describe('createLogger with odd field values', () => {
  it('logs an Error passed as the fields under `error`, and keeps `__proto__` keys as data', () => {
    const { logger, lines } = capture();
    logger.error('failed', new RuntimeError('corrupt', 'bad log') as unknown as Record<string, unknown>);
    logger.info('parsed', JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>);
    const [first, second] = lines();
    expect(first?.error).toEqual({ name: 'RuntimeError', code: 'corrupt', message: 'bad log' });
    expect(second).toMatchObject({ ok: 1 });
    expect(Object.getOwnPropertyNames(second)).toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
