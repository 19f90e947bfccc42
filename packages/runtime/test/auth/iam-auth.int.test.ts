import { afterAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/auth/create-authenticator.js';
import type { IamAuth } from '../../src/auth/iam-auth.js';
import { HttpClient } from '../../src/http/http-client.js';

// The S3-compatible test server (moto) also answers STS and signed S3 calls on the same port.
const endpoint = process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['AWS_ENDPOINT_URL'];
const env = {
  AWS_ACCESS_KEY_ID: process.env['AWS_ACCESS_KEY_ID'] ?? 'testing',
  AWS_SECRET_ACCESS_KEY: process.env['AWS_SECRET_ACCESS_KEY'] ?? 'testing',
  AWS_REGION: 'us-east-1',
  ...(endpoint ? { AWS_ENDPOINT_URL_STS: endpoint } : {}),
};

describe.skipIf(!endpoint)('IamAuth against the S3-compatible server', () => {
  const clients: HttpClient[] = [];
  afterAll(async () => {
    for (const c of clients) await c.close();
  });

  it('assumes a role through STS and signs a request with the role credentials', async () => {
    const auth = createAuthenticator(
      { method: 'iam', config: { roleArn: 'arn:aws:iam::123456789012:role/connector-reader' } },
      env,
      { awsService: 's3' },
    ) as IamAuth;
    const client = new HttpClient({ baseUrl: endpoint!, auth, retry: { maxAttempts: 1 } });
    clients.push(client);
    const response = await client.send({ url: '/' });
    expect(response.status).toBe(200);
    expect(response.text()).toContain('ListAllMyBucketsResult');
    // The role's temporary credentials were used: a session token went with the request, and it is
    // among the secrets the client redacts.
    expect(auth.secrets().length).toBeGreaterThanOrEqual(3);
  });
});
