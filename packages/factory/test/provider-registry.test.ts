import { mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Source, findLiteralSecrets, formatProblem } from '@connector-factory/ir';
import { FactoryError, loadProviderRegistry } from '../src/index.js';

const providersDir = fileURLToPath(new URL('../../../providers/', import.meta.url));

async function loadError(dir: string): Promise<FactoryError> {
  try {
    await loadProviderRegistry(dir);
  } catch (error) {
    if (error instanceof FactoryError) return error;
    throw error;
  }
  throw new Error('expected the registry to be rejected');
}

function copyRegistry(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cf-providers-'));
  cpSync(providersDir, dir, { recursive: true });
  return dir;
}

describe('the provider registry', () => {
  it('loads and validates every provider the product promises', async () => {
    const registry = await loadProviderRegistry(providersDir);
    const names = registry.list().map((p) => p.provider);
    for (const name of [
      'salesforce',
      'postgres',
      'kafka',
      'mysql',
      's3',
      'local-files',
      'rest',
      'graphql',
      'webhook',
    ]) {
      expect(names).toContain(name);
    }
    const saas = names.filter((n) => ['hubspot', 'stripe', 'github', 'shopify', 'zendesk', 'jira'].includes(n));
    expect(saas.length).toBeGreaterThanOrEqual(5);
  });

  it("gives every provider the location its source type needs in a manifest, and no other type's", async () => {
    const registry = await loadProviderRegistry(providersDir);
    for (const p of registry.list()) {
      const source = {
        type: p.type,
        provider: p.provider,
        auth: { method: 'none', config: {} },
        ...(p.baseUrl !== undefined ? { baseUrl: p.baseUrl } : {}),
        ...(p.connectionString !== undefined ? { connectionString: p.connectionString } : {}),
      };
      expect(Source.safeParse(source).error?.issues ?? [], p.provider).toEqual([]);
      if (p.type === 'file') expect(p.baseUrl ?? p.connectionString, p.provider).toBeDefined();
    }
  });

  it('keeps the facts the spec gives', async () => {
    const registry = await loadProviderRegistry(providersDir);
    const salesforce = registry.get('salesforce');
    expect(salesforce).toMatchObject({
      type: 'rest_api',
      baseUrl: 'https://{instance}.salesforce.com',
      auth: { defaultMethod: 'oauth2', oauth2: { tokenUrl: 'https://login.salesforce.com/services/oauth2/token' } },
      rateLimit: { requestsPerSecond: 25, burstLimit: 100 },
    });
    expect(salesforce.entities.common).toEqual(
      expect.arrayContaining(['Account', 'Contact', 'Opportunity', 'Lead', 'Case']),
    );
    expect(registry.get('postgres')).toMatchObject({
      type: 'jdbc',
      connectionString: 'postgresql://{host}:{port}/{database}',
      auth: { defaultMethod: 'basic', basic: { usernameEnvVar: 'POSTGRES_USER', passwordEnvVar: 'POSTGRES_PASSWORD' } },
    });
    expect(registry.get('kafka')).toMatchObject({
      type: 'stream',
      auth: { defaultMethod: 'sasl_ssl', sasl_ssl: { mechanism: 'SCRAM-SHA-256' } },
    });
  });

  it('finds providers by alias, ignoring case and spacing', async () => {
    const registry = await loadProviderRegistry(providersDir);
    expect(registry.find('sfdc')?.provider).toBe('salesforce');
    expect(registry.find('pg')?.provider).toBe('postgres');
    expect(registry.find('PostgreSQL')?.provider).toBe('postgres');
    expect(registry.find('MariaDB')?.provider).toBe('mysql');
    expect(registry.find('local files')?.provider).toBe('local-files');
    expect(registry.find('oracle')).toBeUndefined();
  });

  it('suggests the closest provider for an unknown name', async () => {
    const registry = await loadProviderRegistry(providersDir);
    expect(() => registry.get('salesfroce')).toThrowError(/did you mean "salesforce"/);
  });

  it('names the file, line and field of a broken provider', async () => {
    const dir = copyRegistry();
    const file = join(dir, 'stripe.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^type: rest_api$/m, 'type: rest'));
    const error = await loadError(dir);
    expect(error.code).toBe('registry_invalid');
    expect(error.details.join('\n')).toMatch(/stripe\.yaml:\d+:\d+: type: /);
  });

  it('reports invalid YAML with its line and column', async () => {
    const dir = copyRegistry();
    writeFileSync(join(dir, 'broken.yaml'), 'provider: broken\ndisplayName: [unclosed\n');
    const error = await loadError(dir);
    expect(error.details.join('\n')).toMatch(/broken\.yaml:\d+:\d+: invalid YAML/);
  });

  it('rejects a provider whose name differs from its file, and colliding aliases', async () => {
    const dir = copyRegistry();
    const text = readFileSync(join(dir, 'postgres.yaml'), 'utf8');
    writeFileSync(join(dir, 'postgres2.yaml'), text);
    const error = await loadError(dir);
    const details = error.details.join('\n');
    expect(details).toMatch(/postgres2\.yaml:\d+:\d+: provider: "postgres" does not match the file name/);
    expect(details).toMatch(/already names provider postgres/);
  });

  it('has no literal secrets anywhere: credentials are env-var names only', async () => {
    const registry = await loadProviderRegistry(providersDir);
    for (const provider of registry.list()) {
      expect(
        findLiteralSecrets(provider).map((p) => formatProblem(p)),
        provider.provider,
      ).toEqual([]);
    }
    // The check itself catches a token planted in a provider.
    const planted = { ...registry.get('github'), description: 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8' };
    expect(findLiteralSecrets(planted)).toHaveLength(1);
  });
});
