import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cronError, type UpdateStrategy } from '@connector-factory/ir';
import {
  FactoryError,
  discover,
  loadProviderRegistry,
  type DestinationHint,
  type DiscoverInput,
  type ProviderRegistry,
  type SourceManifest,
} from '../../src/index.js';

const providersDir = fileURLToPath(new URL('../../../../providers/', import.meta.url));
const openapiFixture = fileURLToPath(new URL('./fixtures/openapi.yaml', import.meta.url));

let registry: ProviderRegistry;
beforeAll(async () => {
  registry = await loadProviderRegistry(providersDir);
});

async function run(input: string | DiscoverInput): Promise<SourceManifest> {
  return discover(typeof input === 'string' ? { description: input } : input, registry);
}

async function failure(input: string | DiscoverInput): Promise<FactoryError> {
  try {
    await run(input);
  } catch (error) {
    if (error instanceof FactoryError) return error;
    throw error;
  }
  throw new Error(`expected discovery to fail for ${JSON.stringify(input)}`);
}

/** `continuous`, `event`, `interval:<seconds>` or the cron expression. */
function scheduleOf(manifest: SourceManifest): string {
  const { schedule } = manifest;
  if (schedule.type === 'cron') return schedule.expression!;
  if (schedule.type === 'interval') return `interval:${schedule.intervalSeconds}`;
  return schedule.type;
}

interface Case {
  readonly group: string;
  readonly input: string | DiscoverInput;
  readonly provider?: string;
  readonly entities?: readonly string[];
  readonly strategy?: UpdateStrategy;
  readonly schedule?: string;
  readonly destination?: DestinationHint;
  readonly auth?: string;
  readonly baseUrl?: string;
  readonly connectionString?: string;
  readonly error?: 'not_found' | 'invalid_input' | 'usage';
  readonly errorText?: RegExp;
}

const CASES: readonly Case[] = [
  // The spec's two examples.
  {
    group: 'spec',
    input: 'Connect to Salesforce and stream Opportunity data',
    provider: 'salesforce',
    entities: ['Opportunity'],
    strategy: 'incremental',
    schedule: '0 */15 * * * *',
    auth: 'oauth2',
  },
  {
    group: 'spec',
    input: 'Stream changes from orders table in Postgres',
    provider: 'postgres',
    entities: ['orders'],
    strategy: 'cdc',
    schedule: 'continuous',
    connectionString: '${POSTGRES_CONNECTION_STRING}',
  },

  // Providers by name and alias, entities, schedules, destinations.
  {
    group: 'provider',
    input: 'Sync HubSpot contacts and deals every 15 minutes',
    provider: 'hubspot',
    entities: ['contacts', 'deals'],
    strategy: 'incremental',
    schedule: '0 */15 * * * *',
    auth: 'bearer',
  },
  {
    group: 'provider',
    input: 'Pull tickets and users from Zendesk Support hourly',
    provider: 'zendesk',
    entities: ['tickets', 'users'],
    strategy: 'incremental',
    schedule: '0 0 * * * *',
  },
  {
    group: 'provider',
    input: 'Load issues and pull requests from GitHub daily at 2am to s3://lake/landing/github/ as parquet',
    provider: 'github',
    entities: ['issues', 'pull_requests'],
    strategy: 'incremental',
    schedule: '0 0 2 * * *',
    destination: { lakePath: 's3://lake/landing/github/', format: 'parquet' },
  },
  {
    group: 'alias',
    input: 'Sync the SFDC Opportunity and Account objects in real-time',
    provider: 'salesforce',
    entities: ['Opportunity', 'Account'],
    strategy: 'incremental',
    schedule: '0 */15 * * * *',
  },
  {
    group: 'provider',
    input: 'Copy CSV files from s3://raw-bucket/exports/ into s3://lake/landing as parquet',
    provider: 's3',
    entities: ['csv'],
    strategy: 'incremental',
    destination: { lakePath: 's3://lake/landing', format: 'parquet' },
    connectionString: 's3://raw-bucket/exports/',
    auth: 'iam',
  },
  {
    group: 'alias',
    input: 'Replicate the order_items and products tables from MariaDB into ./lake as delta',
    provider: 'mysql',
    entities: ['order_items', 'products'],
    strategy: 'cdc',
    schedule: 'continuous',
    destination: { lakePath: './lake', format: 'delta' },
  },
  {
    group: 'alias',
    input: 'Consume the clickstream topic from Apache Kafka',
    provider: 'kafka',
    entities: ['clickstream'],
    strategy: 'incremental',
    schedule: 'continuous',
    auth: 'basic',
  },
  {
    group: 'alias',
    input: 'Ingest Debezium change events for the orders topic from Confluent Cloud',
    provider: 'kafka',
    entities: ['orders'],
    strategy: 'cdc',
    schedule: 'continuous',
  },
  {
    group: 'provider',
    input: 'Receive Stripe webhooks',
    provider: 'webhook',
    entities: ['events'],
    strategy: 'incremental',
    schedule: 'event',
  },
  {
    group: 'provider',
    input: 'Sync Stripe charges, refunds and payouts incrementally every 30 min',
    provider: 'stripe',
    entities: ['charges', 'refunds', 'payouts'],
    strategy: 'incremental',
    schedule: '0 */30 * * * *',
  },
  {
    group: 'provider',
    input: 'Load parquet files from ./data/in into ./lake every day at 14:30',
    provider: 'local-files',
    entities: ['parquet'],
    schedule: '0 30 14 * * *',
    destination: { lakePath: './lake' },
    connectionString: 'file://./data/in',
    auth: 'none',
  },
  {
    group: 'host',
    input: 'Sync Shopify orders from acme.myshopify.com weekly on monday',
    provider: 'shopify',
    entities: ['orders'],
    schedule: '0 0 0 * * 1',
    baseUrl: 'https://acme.myshopify.com/admin/api/2024-10',
  },
  {
    group: 'host',
    input: 'Jira issues from https://acme.atlassian.net every 2 hours using OAuth',
    provider: 'jira',
    entities: ['issues'],
    schedule: '0 0 */2 * * *',
    auth: 'oauth2',
    baseUrl: 'https://acme.atlassian.net/rest/api/3',
  },
  {
    group: 'intent',
    input: 'Take a full snapshot of the users table in MySQL every sunday at 3am',
    provider: 'mysql',
    entities: ['users'],
    strategy: 'full_refresh',
    schedule: '0 0 3 * * 0',
  },
  {
    group: 'entity',
    input: 'Fetch the Invoice__c custom object from Salesforce nightly',
    provider: 'salesforce',
    entities: ['Invoice__c'],
    strategy: 'incremental',
    schedule: '0 0 2 * * *',
  },
  {
    group: 'entity',
    input: 'Sync GitHub repositories and PRs weekly',
    provider: 'github',
    entities: ['repos', 'pull_requests'],
    schedule: '0 0 0 * * 0',
  },
  {
    group: 'destination',
    input: 'Land HubSpot deals in s3://lake/hubspot as avro twice a day',
    provider: 'hubspot',
    entities: ['deals'],
    schedule: '0 0 */12 * * *',
    destination: { lakePath: 's3://lake/hubspot', format: 'avro' },
  },
  {
    group: 'entity',
    input: "Sync the 'OpportunityLineItem' object and Quote from Salesforce",
    provider: 'salesforce',
    entities: ['OpportunityLineItem', 'Quote'],
  },

  // Typos.
  {
    group: 'typo',
    input: 'salesfroce accounts and contacts nightly',
    provider: 'salesforce',
    entities: ['Account', 'Contact'],
    schedule: '0 0 2 * * *',
  },
  {
    group: 'typo',
    input: 'copy the customers table from postgress once',
    provider: 'postgres',
    entities: ['customers'],
    strategy: 'full_refresh',
    schedule: '0 0 2 * * *',
  },
  {
    group: 'typo',
    input: 'hubspt companies every 5 minutes',
    provider: 'hubspot',
    entities: ['companies'],
    schedule: '0 */5 * * * *',
  },
  {
    group: 'typo',
    input: 'pull tickets from zendsk',
    provider: 'zendesk',
    entities: ['tickets'],
    schedule: '0 0 * * * *',
  },
  {
    group: 'typo',
    input: 'stirpe invoices daily',
    provider: 'stripe',
    entities: ['invoices'],
    schedule: '0 0 0 * * *',
  },
  {
    group: 'typo',
    input: 'Shopfiy products and customers, full refresh',
    provider: 'shopify',
    entities: ['products', 'customers'],
    strategy: 'full_refresh',
  },
  { group: 'typo', input: 'sales froce opportunites', provider: 'salesforce', entities: ['Opportunity'] },

  // Intents and schedules.
  {
    group: 'intent',
    input: 'CDC of public.orders from PG',
    provider: 'postgres',
    entities: ['public.orders'],
    strategy: 'cdc',
    schedule: 'continuous',
  },
  {
    group: 'intent',
    input: 'Load new rows from the payments table in MySQL every 10 minutes',
    provider: 'mysql',
    entities: ['payments'],
    strategy: 'incremental',
    schedule: '0 */10 * * * *',
  },
  {
    group: 'intent',
    input: 'Copy everything once from Postgres',
    provider: 'postgres',
    entities: [],
    strategy: 'full_refresh',
  },
  {
    group: 'intent',
    input: 'Load Stripe invoices with updates since last run',
    provider: 'stripe',
    entities: ['invoices'],
    strategy: 'incremental',
    schedule: '0 0 * * * *',
  },
  { group: 'schedule', input: 'every 90 minutes sync stripe customers', provider: 'stripe', schedule: 'interval:5400' },
  {
    group: 'schedule',
    input: 'Poll Zendesk tickets every 30 seconds',
    provider: 'zendesk',
    schedule: '*/30 * * * * *',
  },
  {
    group: 'schedule',
    input: 'Sync Jira projects every weekday at 9am',
    provider: 'jira',
    entities: ['projects'],
    schedule: '0 0 9 * * 1-5',
  },
  {
    group: 'intent',
    input: 'Stream changes from the customers and orders tables in Aurora PostgreSQL every 5 minutes',
    provider: 'postgres',
    entities: ['customers', 'orders'],
    strategy: 'cdc',
    schedule: '0 */5 * * * *',
  },
  {
    group: 'schedule',
    input: 'Sync HubSpot tickets every quarter hour',
    provider: 'hubspot',
    schedule: '0 */15 * * * *',
  },
  {
    group: 'intent',
    input: 'Stream Stripe charges continuously',
    provider: 'stripe',
    entities: ['charges'],
    strategy: 'incremental',
    schedule: '0 */15 * * * *',
  },
  {
    group: 'schedule',
    input: 'monthly snapshot of the users table in MySQL',
    provider: 'mysql',
    entities: ['users'],
    strategy: 'full_refresh',
    schedule: '0 0 0 1 * *',
  },

  // Connection strings, with and without words.
  {
    group: 'connection',
    input: { connection: 'postgresql://app:hunter2@db.internal:5432/shop' },
    provider: 'postgres',
    entities: [],
    connectionString: '${POSTGRES_CONNECTION_STRING}',
  },
  {
    group: 'connection',
    input: {
      description: 'stream the orders table',
      connection: 'postgres://app:hunter2@db:5432/shop?sslmode=require',
    },
    provider: 'postgres',
    entities: ['orders'],
    strategy: 'cdc',
    schedule: 'continuous',
    connectionString: '${POSTGRES_CONNECTION_STRING}',
  },
  {
    group: 'connection',
    input: { description: 'customers table, every 15 minutes, to s3://lake/pg as delta', connection: '${PG_URL}' },
    provider: 'postgres',
    entities: ['customers'],
    schedule: '0 */15 * * * *',
    destination: { lakePath: 's3://lake/pg', format: 'delta' },
    connectionString: '${PG_URL}',
  },
  {
    group: 'connection',
    input: {
      connection: 'mariadb://etl:s3cr3t@maria:3306/erp',
      description: 'incremental sync of invoices and payments',
    },
    provider: 'mysql',
    entities: ['invoices', 'payments'],
    strategy: 'incremental',
    connectionString: '${MYSQL_CONNECTION_STRING}',
  },
  {
    group: 'connection',
    input: { description: 'customers table in MySQL', connection: '${DATABASE_URL}' },
    provider: 'mysql',
    entities: ['customers'],
    connectionString: '${DATABASE_URL}',
  },
  {
    group: 'connection',
    input: 'Sync users from postgresql://reader:hunter2@10.0.0.5/app nightly',
    provider: 'postgres',
    entities: ['users'],
    schedule: '0 0 2 * * *',
    connectionString: '${POSTGRES_CONNECTION_STRING}',
  },
  {
    group: 'connection',
    input: { description: 'orders and order_items', connection: 'mysql://etl@localhost:3306/shop' },
    provider: 'mysql',
    entities: ['orders', 'order_items'],
    connectionString: '${MYSQL_CONNECTION_STRING}',
  },

  // OpenAPI, GraphQL and plain API URLs.
  {
    group: 'openapi',
    input: { openapi: openapiFixture },
    provider: 'rest',
    entities: ['customers', 'invoices', 'plans'],
    strategy: 'incremental',
    auth: 'oauth2',
    baseUrl: 'https://api.acme-billing.example/v1',
  },
  {
    group: 'openapi',
    input: { openapi: openapiFixture, description: 'invoices daily at 2am' },
    provider: 'rest',
    entities: ['invoices'],
    strategy: 'incremental',
    schedule: '0 0 2 * * *',
  },
  {
    group: 'openapi',
    input: { openapi: openapiFixture, description: 'a full refresh of plans' },
    provider: 'rest',
    entities: ['plans'],
    strategy: 'full_refresh',
  },
  {
    group: 'graphql',
    input: { graphqlEndpoint: 'https://api.example.com/graphql', description: 'orders and customers every 10 minutes' },
    provider: 'graphql',
    entities: ['orders', 'customers'],
    schedule: '0 */10 * * * *',
    baseUrl: 'https://api.example.com/graphql',
  },
  {
    group: 'graphql',
    input: 'query https://shop.example.com/graphql for products hourly',
    provider: 'graphql',
    entities: ['products'],
    schedule: '0 0 * * * *',
    baseUrl: 'https://shop.example.com/graphql',
  },
  {
    group: 'rest',
    input: 'Pull records from the REST API at https://api.acme.io/v2 every 5 minutes',
    provider: 'rest',
    entities: ['records'],
    schedule: '0 */5 * * * *',
    baseUrl: 'https://api.acme.io/v2',
  },

  // Words that look like providers or entities but are not.
  {
    group: 'false positive',
    input: 'in any case, load lead data from Salesforce',
    provider: 'salesforce',
    entities: ['Lead'],
  },
  {
    group: 'false positive',
    input: 'Pull orders from Shopify in order to report revenue',
    provider: 'shopify',
    entities: ['orders'],
  },
  {
    group: 'false positive',
    input: 'Strip the test rows and sync the rest of the Stripe customers',
    provider: 'stripe',
    entities: ['customers'],
  },

  // Unknown providers, ambiguity, empty input, contradictions.
  {
    group: 'error',
    input: 'Connect to Snowflake and load orders',
    error: 'not_found',
    errorText:
      /unknown provider "Snowflake"; the closest are \w[\w-]*, \w[\w-]*, \w[\w-]*; to add one, write providers\/snowflake\.yaml \(see providers\/rest\.yaml\)/,
  },
  { group: 'error', input: 'Load data from MS SQL Server', error: 'not_found', errorText: /"MS SQL Server"/ },
  { group: 'error', input: 'sync confluence pages', error: 'not_found', errorText: /"confluence"/ },
  { group: 'error', input: 'OpenAI usage data every hour', error: 'not_found', errorText: /"OpenAI"/ },
  {
    group: 'ambiguity',
    input: 'Sync orders from postgres or mysql',
    error: 'invalid_input',
    errorText: /postgres, mysql/,
  },
  { group: 'ambiguity', input: 'Move GitHub issues into Jira', error: 'invalid_input', errorText: /github, jira/ },
  { group: 'error', input: { description: '   ' }, error: 'usage' },
  {
    group: 'error',
    input: { description: 'customers from Postgres', connection: 'mysql://root:s3cr3t@db/x' },
    error: 'invalid_input',
    errorText: /names postgres but the connection string is for mysql/,
  },
  {
    group: 'error',
    input: { connection: 'mongodb://u:hunter2@h/db' },
    error: 'not_found',
    errorText: /mongodb:\/\/.*providers\/mongodb\.yaml/,
  },
  { group: 'error', input: { connection: '${DATABASE_URL}' }, error: 'invalid_input', errorText: /DATABASE_URL/ },
];

const results: Array<{ group: string; input: string; ok: boolean }> = [];

function label(input: string | DiscoverInput): string {
  if (typeof input === 'string') return input;
  return Object.entries(input)
    .map(([key, value]) => `${key}=${String(value).replace(openapiFixture, 'fixtures/openapi.yaml')}`)
    .join(' ');
}

describe('discovery evaluation table', () => {
  it('has at least 40 varied descriptions', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.group)).size).toBeGreaterThanOrEqual(10);
  });

  it.each(CASES.map((c) => [label(c.input), c] as const))('%s', async (_name, c) => {
    let ok = false;
    try {
      if (c.error !== undefined) {
        const error = await failure(c.input);
        expect(error.code).toBe(c.error);
        if (c.errorText) expect([error.message, ...error.details].join('\n')).toMatch(c.errorText);
      } else {
        const m = await run(c.input);
        if (c.provider !== undefined) expect(m.provider).toBe(c.provider);
        if (c.entities !== undefined) expect(m.suggestedEntities).toEqual(c.entities);
        if (c.strategy !== undefined) expect(m.strategy.updateStrategy).toBe(c.strategy);
        if (c.schedule !== undefined) expect(scheduleOf(m)).toBe(c.schedule);
        if (c.destination !== undefined) expect(m.destination).toEqual(c.destination);
        if (c.auth !== undefined) expect(m.auth.method).toBe(c.auth);
        if (c.baseUrl !== undefined) expect(m.baseUrl).toBe(c.baseUrl);
        if (c.connectionString !== undefined) expect(m.connectionString).toBe(c.connectionString);
        if (m.schedule.expression !== undefined) expect(cronError(m.schedule.expression)).toBeUndefined();
        expect(m.matches.length).toBeGreaterThan(0);
      }
      ok = true;
    } finally {
      results.push({ group: c.group, input: label(c.input), ok });
    }
  });

  afterAll(() => {
    const groups = new Map<string, { pass: number; total: number }>();
    for (const r of results) {
      const g = groups.get(r.group) ?? { pass: 0, total: 0 };
      g.total++;
      if (r.ok) g.pass++;
      groups.set(r.group, g);
    }
    const pass = results.filter((r) => r.ok).length;
    const lines = [...groups].map(([group, g]) => `  ${group.padEnd(16)} ${g.pass}/${g.total}`);
    console.log(`discovery accuracy: ${pass}/${results.length}\n${lines.join('\n')}`);
  });
});

describe('the spec examples', () => {
  it('"Connect to Salesforce and stream Opportunity data" is salesforce/Opportunity, polled because the REST API has no cdc', async () => {
    const m = await run('Connect to Salesforce and stream Opportunity data');
    expect(m).toMatchObject({
      type: 'rest_api',
      provider: 'salesforce',
      displayName: 'Salesforce',
      baseUrl: 'https://{instance}.salesforce.com',
      template: 'rest-api',
      suggestedEntities: ['Opportunity'],
      rateLimit: { requestsPerSecond: 25, burstLimit: 100 },
      auth: {
        method: 'oauth2',
        config: {
          tokenUrl: 'https://login.salesforce.com/services/oauth2/token',
          clientIdEnvVar: 'SALESFORCE_CLIENT_ID',
          clientSecretEnvVar: 'SALESFORCE_CLIENT_SECRET',
          scopes: ['api', 'refresh_token'],
        },
      },
      strategy: { updateStrategy: 'incremental', incrementalKey: 'SystemModstamp' },
      schedule: { type: 'cron', expression: '0 */15 * * * *' },
    });
    expect(m.warnings.join('\n')).toMatch(/cannot stream changes/);
    expect(m.matches).toEqual(
      expect.arrayContaining([
        { words: 'Salesforce', meaning: expect.stringMatching(/^provider salesforce/) },
        { words: 'stream', meaning: expect.stringMatching(/intent/) },
        { words: 'Opportunity', meaning: expect.stringMatching(/^entity Opportunity/) },
      ]),
    );
  });

  it('"Stream changes from orders table in Postgres" is postgres/orders/cdc/continuous', async () => {
    const m = await run('Stream changes from orders table in Postgres');
    expect(m).toMatchObject({
      type: 'jdbc',
      provider: 'postgres',
      connectionString: '${POSTGRES_CONNECTION_STRING}',
      auth: { method: 'basic', config: { usernameEnvVar: 'POSTGRES_USER', passwordEnvVar: 'POSTGRES_PASSWORD' } },
      suggestedEntities: ['orders'],
      strategy: { updateStrategy: 'cdc' },
      schedule: { type: 'continuous' },
      template: 'jdbc',
    });
    expect(m.baseUrl).toBeUndefined();
    expect(m.matches.map((x) => x.words)).toEqual(['Stream changes', 'orders', 'Postgres']);
    expect(m.strategy.reason).toMatch(/"Stream changes".*logical replication/);
  });
});

describe('connection strings', () => {
  const secrets = ['hunter2', 's3cr3t', 'p@ss:w0rd!'];
  const inputs: DiscoverInput[] = [
    { connection: 'postgresql://app:hunter2@db.internal:5432/shop' },
    { connection: 'postgres://app:hunter2@db:5432/shop?sslmode=require', description: 'stream the orders table' },
    { connection: 'jdbc:postgresql://db:5432/shop?user=app&password=hunter2' },
    { connection: 'mysql://root:s3cr3t@db:3306/shop', description: 'orders to s3://lake/mysql as delta' },
    { connection: 'mariadb://etl:p@ss:w0rd!@maria:3306/erp' },
    { description: 'Sync users from postgresql://reader:hunter2@10.0.0.5/app nightly' },
  ];

  it.each(inputs.map((input) => [JSON.stringify(input), input] as const))(
    'never echoes the password of %s',
    async (_name, input) => {
      const m = await run(input);
      const text = JSON.stringify(m);
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(m.connectionString).toMatch(/^\$\{[A-Z_]+\}$/);
      expect(m.warnings.join('\n')).toMatch(/export [A-Z_]+='.*<(password|secret)>/);
    },
  );

  it('drops credentials from API URLs, GraphQL endpoints and lake locations', async () => {
    const inputs: DiscoverInput[] = [
      { description: 'Pull items from the REST API at https://bob:hunter2@api.acme.io/v2 hourly' },
      { description: 'orders and customers', graphqlEndpoint: 'https://bob:hunter2@api.example.com/graphql' },
      { description: 'Copy csv files from s3://AKIA:hunter2@raw/in into s3://lake/raw?token=hunter2' },
      { openapi: 'https://bob:hunter2@api.acme.example/openapi.json' },
    ];
    for (const input of inputs) {
      const m = await run(input);
      expect(JSON.stringify(m)).not.toContain('hunter2');
      expect(m.warnings.join('\n')).toMatch(/dropped the credentials|not fetched/);
    }
    expect((await run(inputs[0]!)).baseUrl).toBe('https://api.acme.io/v2');
    expect((await run(inputs[2]!)).connectionString).toBe('s3://raw/in');
  });

  it('never echoes the password in an error either', async () => {
    for (const input of [
      { description: 'customers from Postgres', connection: 'mysql://root:s3cr3t@db/x' },
      { connection: 'mongodb://u:hunter2@h/db' },
      { description: 'orders from Postgres via mysql://root:s3cr3t@db/x' },
    ]) {
      const error = await failure(input);
      expect([error.message, ...error.details].join('\n')).not.toMatch(/hunter2|s3cr3t/);
    }
  });

  it('keeps an env-var reference as given and reads the provider from its name', async () => {
    const m = await run({ connection: '${PG_URL}' });
    expect(m).toMatchObject({ provider: 'postgres', connectionString: '${PG_URL}' });
    expect(m.matches[0]).toEqual({ words: '--connection ${PG_URL}', meaning: expect.stringMatching(/PG_URL/) });
    expect((await run({ connection: '$MYSQL_DSN' })).connectionString).toBe('${MYSQL_DSN}');
  });

  it('lets the credentials travel in the reference when the literal carried them', async () => {
    const withPassword = await run({ connection: 'postgresql://app:hunter2@db/shop' });
    expect(withPassword.auth).toEqual({ method: 'basic', config: {} });
    const reference = await run({ connection: '${PG_URL}' });
    expect(reference.auth.config).toEqual({ usernameEnvVar: 'POSTGRES_USER', passwordEnvVar: 'POSTGRES_PASSWORD' });
  });

  it('tells the user to export a literal without a password too, and keeps no host in the manifest', async () => {
    const m = await run({ connection: 'mysql://etl@localhost:3306/shop' });
    expect(m.connectionString).toBe('${MYSQL_CONNECTION_STRING}');
    expect(JSON.stringify({ ...m, warnings: [], matches: [] })).not.toContain('localhost');
    expect(m.warnings).toContain(
      "the connection string is not kept in the manifest: export MYSQL_CONNECTION_STRING='mysql://etl@localhost:3306/shop' and the manifest refers to ${MYSQL_CONNECTION_STRING}",
    );
  });
});

describe('OpenAPI documents', () => {
  it('takes base URL, auth, collections and incremental filters from the document', async () => {
    const m = await run({ openapi: openapiFixture });
    expect(m).toMatchObject({
      type: 'rest_api',
      provider: 'rest',
      displayName: 'Acme Billing API',
      baseUrl: 'https://api.acme-billing.example/v1',
      template: 'rest-api',
      auth: {
        method: 'oauth2',
        config: {
          tokenUrl: 'https://auth.acme-billing.example/oauth/token',
          clientIdEnvVar: 'REST_API_CLIENT_ID',
          clientSecretEnvVar: 'REST_API_CLIENT_SECRET',
          scopes: ['billing.read', 'customers.read'],
        },
      },
      suggestedEntities: ['customers', 'invoices', 'plans'],
      entityEndpoints: { customers: '/customers', invoices: '/invoices', plans: '/plans' },
      strategy: { updateStrategy: 'incremental', incrementalKey: 'updated_at' },
    });
    expect(m.strategy.reason).toMatch(/updated_since.*modified_after/);
    expect(m.warnings.join('\n')).toMatch(/plans: no updated-since filter/);
  });

  it('narrows to the entities the words name and uses their cursor field', async () => {
    const m = await run({ openapi: openapiFixture, description: 'invoices daily at 2am' });
    expect(m.suggestedEntities).toEqual(['invoices']);
    expect(m.entityEndpoints).toEqual({ invoices: '/invoices' });
    expect(m.strategy).toMatchObject({ updateStrategy: 'incremental', incrementalKey: 'modified_at' });
    expect(m.matches).toContainEqual({
      words: 'invoices',
      meaning: expect.stringMatching(/collection of the OpenAPI/),
    });
  });

  it('reads Swagger 2 JSON with basic auth, and reads everything when no filter exists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-discovery-'));
    const file = join(dir, 'helpdesk.json');
    writeFileSync(
      file,
      JSON.stringify({
        swagger: '2.0',
        info: { title: 'Helpdesk', version: '1' },
        host: 'helpdesk.example.com',
        basePath: '/api/v2',
        schemes: ['https'],
        securityDefinitions: { basicAuth: { type: 'basic' } },
        paths: {
          '/tickets': { get: { responses: { 200: { description: 'ok', schema: { type: 'array', items: {} } } } } },
          '/tickets/{id}': { get: { responses: { 200: { description: 'ok' } } } },
          '/me': { get: { responses: { 200: { description: 'ok', schema: { type: 'object' } } } } },
        },
      }),
    );
    const m = await run({ openapi: file });
    expect(m).toMatchObject({
      provider: 'rest',
      displayName: 'Helpdesk',
      baseUrl: 'https://helpdesk.example.com/api/v2',
      auth: { method: 'basic', config: { usernameEnvVar: 'REST_API_USERNAME', passwordEnvVar: 'REST_API_PASSWORD' } },
      suggestedEntities: ['tickets'],
      strategy: { updateStrategy: 'full_refresh' },
      schedule: { type: 'cron', expression: '0 0 2 * * *' },
    });
  });

  it('does not fetch a URL, and says so', async () => {
    const m = await run({ openapi: 'https://api.acme.example/openapi.json' });
    expect(m.provider).toBe('rest');
    expect(m.baseUrl).toBe('https://api.acme.example');
    expect(m.warnings.join('\n')).toMatch(/not fetched/);
  });

  it('reports a missing file and a file that is not OpenAPI', async () => {
    expect((await failure({ openapi: '/nonexistent/openapi.yaml' })).code).toBe('not_found');
    const dir = mkdtempSync(join(tmpdir(), 'cf-discovery-'));
    const file = join(dir, 'other.yaml');
    writeFileSync(file, 'name: not an api\n');
    const error = await failure({ openapi: file });
    expect(error.code).toBe('invalid_input');
    expect(error.message).toMatch(/not an OpenAPI document/);
  });
});

describe('words', () => {
  it('explains typos with the edit distance', async () => {
    const m = await run('salesfroce accounts');
    expect(m.matches[0]).toEqual({
      words: 'salesfroce',
      meaning: 'provider salesforce (Salesforce; typo of "salesforce", 1 edit)',
    });
  });

  it('never reads everyday words as providers', async () => {
    for (const text of ['reset the tables', 'strip the columns', 'test data from the best source', 'read the rest']) {
      const error = await failure(text);
      expect(error.code).toBe('not_found');
    }
  });

  it('matches multi-word aliases regardless of case and punctuation', async () => {
    expect((await run('Sales-Force leads')).provider).toBe('salesforce');
    expect((await run('Amazon Simple Storage Service parquet files')).provider).toBe('s3');
    expect((await run('JIRA SERVICE MANAGEMENT issues')).provider).toBe('jira');
    expect((await run('data from salesforce.com')).provider).toBe('salesforce');
  });

  it('fills host placeholders into the base URL and the OAuth token URL', async () => {
    const m = await run('Shopify orders from acme.myshopify.com with oauth');
    expect(m.baseUrl).toBe('https://acme.myshopify.com/admin/api/2024-10');
    expect(m.auth).toMatchObject({
      method: 'oauth2',
      config: { tokenUrl: 'https://acme.myshopify.com/admin/oauth/access_token' },
    });
  });

  it('takes an IAM role ARN from the text without reading its parts as providers', async () => {
    const m = await run('Copy csv files from s3://raw/in using arn:aws:iam::123456789012:role/s3-reader to ./lake');
    expect(m.provider).toBe('s3');
    expect(m.auth).toEqual({ method: 'iam', config: { roleArn: 'arn:aws:iam::123456789012:role/s3-reader' } });
    expect(m.destination).toEqual({ lakePath: './lake' });
  });

  it('warns when the provider does not take the auth the words ask for', async () => {
    const m = await run('Stripe charges with oauth');
    expect(m.auth.method).toBe('bearer');
    expect(m.warnings.join('\n')).toMatch(/Stripe does not take "oauth"/);
  });

  it('maps Kafka SASL/SSL to basic auth', async () => {
    const m = await run('Consume the payments topic from Kafka');
    expect(m.auth).toEqual({
      method: 'basic',
      config: { usernameEnvVar: 'KAFKA_USERNAME', passwordEnvVar: 'KAFKA_PASSWORD' },
    });
    expect(m.connectionString).toBe('bootstrap.servers=${KAFKA_BROKERS}');
  });

  it('reads "Stripe webhooks" as a webhook receiver for events Stripe sends', async () => {
    const m = await run('Receive Stripe webhooks');
    expect(m.schedule).toMatchObject({ type: 'event', eventSource: '/webhooks/stripe' });
    expect(m.matches).toEqual([
      { words: 'Stripe', meaning: 'the sender of the events (Stripe), received by provider webhook' },
      { words: 'webhooks', meaning: 'provider webhook (Webhook receiver; alias "webhooks")' },
    ]);
  });

  it('prefers the named provider over the generic REST and GraphQL ones', async () => {
    const m = await run('Sync invoices from the Stripe REST API');
    expect(m.provider).toBe('stripe');
    expect(m.warnings.join('\n')).toMatch(/did not change the provider/);
  });

  it('gives valid 6-field crons for every schedule phrase', async () => {
    const phrases: Array<[string, string]> = [
      ['every 15 min', '0 */15 * * * *'],
      ['every 15m', '0 */15 * * * *'],
      ['every minute', '0 * * * * *'],
      ['every hour', '0 0 * * * *'],
      ['once an hour', '0 0 * * * *'],
      ['every half hour', '0 */30 * * * *'],
      ['daily', '0 0 0 * * *'],
      ['daily at 2am', '0 0 2 * * *'],
      ['every day at 14:30', '0 30 14 * * *'],
      ['at 6:45 pm', '0 45 18 * * *'],
      ['nightly', '0 0 2 * * *'],
      ['every morning', '0 0 6 * * *'],
      ['weekly', '0 0 0 * * 0'],
      ['weekly on monday', '0 0 0 * * 1'],
      ['every friday at noon', '0 0 12 * * 5'],
      ['hourly on weekdays', '0 0 * * * 1-5'],
      ['every other day', '0 0 0 */2 * *'],
      ['every 6 hours', '0 0 */6 * * *'],
      ['every 5 seconds', '*/5 * * * * *'],
      ['three times a day', '0 0 */8 * * *'],
      ['monthly', '0 0 0 1 * *'],
    ];
    for (const [phrase, expected] of phrases) {
      const m = await run(`Stripe charges ${phrase}`);
      expect(m.schedule.expression, phrase).toBe(expected);
      expect(cronError(expected)).toBeUndefined();
    }
    expect((await run('Stripe charges every 7 minutes')).schedule).toMatchObject({
      type: 'interval',
      intervalSeconds: 420,
    });
  });

  it('is deterministic', async () => {
    const input = {
      description: 'Stream changes from orders and customers in Postgres to ./lake as delta every 5 minutes',
    };
    expect(await run(input)).toEqual(await run(input));
  });

  it('needs something to discover, and at most one structured input', async () => {
    expect((await failure({})).code).toBe('usage');
    expect((await failure({ connection: '${PG_URL}', graphqlEndpoint: 'https://x.example/graphql' })).code).toBe(
      'usage',
    );
  });
});
