import { describe, expect, it } from 'vitest';
import { IamAuth } from '../../src/auth/iam-auth.js';
import type { OutgoingRequest } from '../../src/http/authenticator.js';

describe('IamAuth (SigV4)', () => {
  it("signs AWS's published GET Object example exactly", async () => {
    // The example of AWS's "Signature Calculations for the Authorization Header" page (S3, GET Object).
    const auth = new IamAuth({
      region: 'us-east-1',
      service: 's3',
      credentials: async () => ({
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      }),
      now: () => Date.parse('2013-05-24T00:00:00Z'),
    });
    const request: OutgoingRequest = {
      method: 'GET',
      url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
      headers: {
        range: 'bytes=0-9',
        'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
      body: undefined,
    };
    await auth.authorize(request);
    expect(request.headers['authorization']).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
    expect(request.headers['x-amz-date']).toBe('20130524T000000Z');
    expect(auth.secrets()).toContain('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  });

  it('signs the query and carries a session token', async () => {
    const auth = new IamAuth({
      region: 'eu-west-1',
      service: 'execute-api',
      credentials: async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'session-token' }),
    });
    const request: OutgoingRequest = {
      method: 'GET',
      url: new URL('https://abc.execute-api.eu-west-1.amazonaws.com/prod/items?b=2&a=1'),
      headers: {},
      body: undefined,
    };
    await auth.authorize(request);
    expect(request.headers['x-amz-security-token']).toBe('session-token');
    expect(request.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
  });
});
