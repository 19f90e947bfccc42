import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { AuthMethod } from '@connector-factory/ir';
import type { SignatureV4 } from '@smithy/signature-v4';
import { RuntimeError } from '../errors.js';
import type { Authenticator, OutgoingRequest } from '../http/authenticator.js';
import { HttpClient } from '../http/http-client.js';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When temporary credentials stop working. */
  readonly expiration?: Date;
}

export type AwsCredentialProvider = () => Promise<AwsCredentials>;

export interface IamOptions {
  readonly region: string;
  /** The signing name of the service: `execute-api` for API Gateway, `s3`, `es`, … */
  readonly service: string;
  /** The credentials the connector has (its environment, or the AWS SDK's default chain). */
  readonly credentials: AwsCredentialProvider;
  /** Assume this role through STS with those credentials, and sign with the role's. */
  readonly roleArn?: string;
  /** The STS endpoint (default https://sts.<region>.amazonaws.com). */
  readonly stsEndpoint?: string;
  readonly http?: HttpClient;
  readonly now?: () => number;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytesOf = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** node:crypto behind the hash interface the SigV4 signer takes. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

/**
 * AWS Signature Version 4 on every request (API Gateway and other AWS-fronted APIs), with the
 * connector's credentials or those of a role it assumes through STS, renewed before they expire.
 */
export class IamAuth implements Authenticator {
  readonly method: AuthMethod = 'iam';
  /** Made on the first request: the signer loads only in connectors that sign. */
  private signer: Promise<SignatureV4> | undefined;
  private assumed: AwsCredentials | undefined;
  private readonly seen: string[] = [];
  private readonly now: () => number;

  constructor(private readonly options: IamOptions) {
    this.now = options.now ?? Date.now;
  }

  private async openSigner(): Promise<SignatureV4> {
    const { SignatureV4 } = await import('@smithy/signature-v4');
    return new SignatureV4({
      service: this.options.service,
      region: this.options.region,
      sha256: NodeSha256,
      credentials: () => this.credentials(),
      // S3 signs the path as sent; every other service escapes it once more.
      uriEscapePath: this.options.service !== 's3',
    });
  }

  async authorize(request: OutgoingRequest): Promise<void> {
    const { url } = request;
    const query: Record<string, string | string[]> = {};
    for (const name of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(name);
      query[name] = values.length === 1 ? values[0]! : values;
    }
    this.signer ??= this.openSigner();
    const signed = await (
      await this.signer
    ).sign(
      {
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        headers: { ...request.headers, host: url.host },
        body: request.body,
      },
      { signingDate: new Date(this.now()) },
    );
    for (const [name, value] of Object.entries(signed.headers)) request.headers[name.toLowerCase()] = value;
  }

  async refresh(): Promise<boolean> {
    if (!this.options.roleArn) return false;
    this.assumed = undefined;
    return true;
  }

  secrets(): readonly string[] {
    return this.seen;
  }

  private async credentials(): Promise<AwsCredentials> {
    const base = await this.options.credentials();
    this.remember(base);
    if (!this.options.roleArn) return base;
    const fresh = this.assumed?.expiration ? this.assumed.expiration.getTime() - 5 * 60_000 > this.now() : false;
    if (!this.assumed || !fresh) {
      this.assumed = await assumeRole(this.options, base, this.now);
      this.remember(this.assumed);
    }
    return this.assumed;
  }

  private remember(credentials: AwsCredentials): void {
    for (const value of [credentials.secretAccessKey, credentials.sessionToken])
      if (value && !this.seen.includes(value)) this.seen.push(value);
  }
}

/** STS AssumeRole (Query API, signed with the connector's own credentials); the answer is XML. */
async function assumeRole(options: IamOptions, base: AwsCredentials, now: () => number): Promise<AwsCredentials> {
  const endpoint = options.stsEndpoint ?? `https://sts.${options.region}.amazonaws.com/`;
  const sts = new IamAuth({
    region: options.region,
    service: 'sts',
    credentials: async () => base,
    now,
  });
  const http = options.http ?? new HttpClient({ auth: sts, retry: { maxAttempts: 4 } });
  const form = new URLSearchParams({
    Action: 'AssumeRole',
    Version: '2011-06-15',
    RoleArn: options.roleArn!,
    RoleSessionName: `connector-factory-${Math.floor(now() / 1000)}`,
    DurationSeconds: '3600',
  });
  try {
    const response = await http.send({
      method: 'POST',
      url: endpoint,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: form.toString(),
    });
    const xml = response.text();
    const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
    const accessKeyId = field('AccessKeyId');
    const secretAccessKey = field('SecretAccessKey');
    const sessionToken = field('SessionToken');
    const expiration = field('Expiration');
    if (!accessKeyId || !secretAccessKey)
      throw new RuntimeError('source_protocol', `STS AssumeRole for ${options.roleArn}: the answer has no credentials`);
    return {
      accessKeyId,
      secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
      ...(expiration ? { expiration: new Date(expiration) } : {}),
    };
  } finally {
    if (!options.http) await http.close();
  }
}
