/**
 * The OpenAPI document reader on its own, as discovery and the REST schema agent use it: collections
 * with their updated-since filter and cursor field, the server URL with its variables filled, auth
 * from the applied security scheme, and the warnings for what it does not follow.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FactoryError } from '../../src/errors.js';
import { readOpenApi } from '../../src/openapi/index.js';

const fixture = fileURLToPath(new URL('../discovery/fixtures/openapi.yaml', import.meta.url));

function writeDocument(name: string, document: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cf-openapi-')), name);
  writeFileSync(file, JSON.stringify(document));
  return file;
}

describe('readOpenApi', () => {
  it('reads collections, their filters and cursor fields, the server URL and the applied auth', async () => {
    const summary = await readOpenApi(pathToFileURL(fixture).href, undefined);
    expect(summary).toMatchObject({
      file: fixture,
      version: '3.0.3',
      title: 'Acme Billing API',
      baseUrl: 'https://api.acme-billing.example/v1',
      auth: {
        method: 'oauth2',
        config: {
          tokenUrl: 'https://auth.acme-billing.example/oauth/token',
          clientIdEnvVar: 'REST_API_CLIENT_ID',
          clientSecretEnvVar: 'REST_API_CLIENT_SECRET',
          scopes: ['billing.read', 'customers.read'],
        },
      },
      authWords: 'security scheme "clientCredentials": auth oauth2',
      warnings: [],
    });
    expect(summary.collections).toEqual([
      { name: 'customers', path: '/customers', incrementalParam: 'updated_since', cursorField: 'updated_at' },
      { name: 'invoices', path: '/invoices', incrementalParam: 'modified_after', cursorField: 'modified_at' },
      { name: 'plans', path: '/plans' },
    ]);
  });

  it('says what it does not follow: a relative server, an external reference, no collection', async () => {
    const file = writeDocument('relative.json', {
      openapi: '3.1.0',
      servers: [{ url: '/api' }],
      paths: { '/status': { get: { responses: { 200: { $ref: 'other.yaml#/ok' } } } } },
    });
    const summary = await readOpenApi(file, undefined);
    expect(summary.baseUrl).toBe('https://{host}/api');
    expect(summary.auth).toEqual({ method: 'none', config: {} });
    expect(summary.collections).toEqual([]);
    expect(summary.warnings).toEqual([
      `${file}: servers[0].url is relative (/api); fill in {host}`,
      `${file}: no collection GET endpoint found (GET paths without {parameters} that return a list)`,
    ]);
  });

  it('warns of an external reference it meets on a collection', async () => {
    const file = writeDocument('external.json', {
      openapi: '3.0.0',
      paths: { '/orders': { get: { responses: { 200: { $ref: 'shared.yaml#/responses/list' } } } } },
    });
    const summary = await readOpenApi(file, undefined);
    expect(summary.collections).toEqual([{ name: 'orders', path: '/orders' }]);
    expect(summary.warnings).toEqual([`${file}: external reference shared.yaml#/responses/list not followed`]);
  });

  it('fails with a coded error on a missing file or a document that is not OpenAPI', async () => {
    await expect(readOpenApi('/nonexistent/openapi.yaml', undefined)).rejects.toMatchObject({ code: 'not_found' });
    const file = writeDocument('other.json', { name: 'not an api' });
    const error = await readOpenApi(file, undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FactoryError);
    expect(error).toMatchObject({
      code: 'invalid_input',
      message: `${file}: not an OpenAPI document (it has no "openapi" or "swagger" field)`,
    });
  });
});
