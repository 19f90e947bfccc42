import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { RuntimeError } from '../../errors.js';
import type { ObjectInfo, ObjectStore } from '../object-store.js';

export interface S3StoreOptions {
  /**
   * An S3-compatible server (MinIO, moto, Ceph, ...). Default: env `AWS_ENDPOINT_URL_S3`, else
   * `AWS_ENDPOINT_URL`, else AWS itself.
   */
  endpoint?: string;
  /** Default: env `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`. */
  region?: string;
  /** `http://endpoint/bucket/key` addressing; default: true when an endpoint is set. */
  forcePathStyle?: boolean;
  /** Files larger than this are uploaded in parts (multipart upload); default 64 MiB. */
  multipartThresholdBytes?: number;
  /** The part size of multipart uploads; default 16 MiB, at least 5 MiB (an S3 limit). */
  partSizeBytes?: number;
  /** A ready client (tests, custom credentials); the options above are then ignored. */
  client?: S3Client;
}

const MiB = 1024 * 1024;
const DEFAULT_MULTIPART_THRESHOLD = 64 * MiB;
const DEFAULT_PART_SIZE = 16 * MiB;
const MIN_PART_SIZE = 5 * MiB;
const DELETE_BATCH = 1000; // the DeleteObjects limit
const UPLOAD_QUEUE = 4; // parts in flight: memory is about UPLOAD_QUEUE × partSize

// The AWS SDK loads on first use: a connector writing to a local lake does not pay its start-up time.
let sdkModule: Promise<typeof S3Sdk> | undefined;
const sdk = () => (sdkModule ??= import('@aws-sdk/client-s3'));

const byKey = (a: ObjectInfo, b: ObjectInfo) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
const env = (name: string): string | undefined => process.env[name] || undefined;

/** The SDK error's name and message, e.g. `NoSuchBucket: The specified bucket does not exist`. */
function describeError(error: unknown): string {
  if (error instanceof Error) {
    const message = error.message && error.message !== error.name ? error.message : '';
    return message ? `${error.name}: ${message}` : error.name;
  }
  return String(error);
}

/** The HTTP status and error name of an SDK error (service errors carry both). */
function status(error: unknown): { code: number | undefined; name: string | undefined } {
  if (typeof error !== 'object' || error === null) return { code: undefined, name: undefined };
  const e = error as { name?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const code = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const name = typeof e.name === 'string' ? e.name : typeof e.Code === 'string' ? e.Code : undefined;
  return { code, name };
}

/** The key does not exist (a missing bucket is an error, not a missing key). */
const isNotFound = (error: unknown) => {
  const { code, name } = status(error);
  return name === 'NoSuchKey' || (code === 404 && name !== 'NoSuchBucket');
};

/** `putIfAbsent` lost: the key exists (412), or another conditional write on it is in flight (409). */
const isConditionFailed = (error: unknown) => {
  const { code, name } = status(error);
  return code === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict';
};

/** Checks a relative key or list prefix: `/`-separated, no `.`/`..`/empty segments, not absolute. */
function checkRelative(what: 'key' | 'prefix', value: string, url: string): void {
  const segments = value.split('/');
  // A prefix may be empty or end with `/`; a key names one object.
  if (what === 'prefix' && segments.at(-1) === '') segments.pop();
  const bad =
    (what === 'key' && value === '') ||
    value.startsWith('/') ||
    segments.some((segment) => segment === '..' || segment === '.' || (what === 'key' && segment === ''));
  if (bad) {
    throw new RuntimeError(
      'config',
      `object ${what} "${value}" is not a plain relative path under ${url} (no "..", "." or empty segments, no leading "/")`,
    );
  }
}

/**
 * An S3 prefix (`s3://bucket/prefix`) as an object store, on AWS or any S3-compatible server.
 * Credentials come only from the AWS SDK's default chain (env vars, shared config, instance roles)
 * and never appear in messages. Every write is atomic: S3 makes an object visible only when its
 * PutObject or multipart upload completes, so readers never see a partial object; a failed
 * multipart upload is aborted. putIfAbsent is a conditional write (`If-None-Match: *`).
 */
export class S3Store implements ObjectStore {
  readonly url: string;
  readonly bucket: string;
  /** The key prefix of the store's root: empty or ending with `/`. */
  readonly prefix: string;
  private client: Promise<S3Client> | undefined;
  private readonly config: S3ClientConfig | undefined;
  private readonly multipartThreshold: number;
  private readonly partSize: number;

  constructor(location: string, options: S3StoreOptions = {}) {
    const match = /^s3:\/\/([^/?#]+)(?:\/([^?#]*))?$/.exec(location);
    if (!match) throw new RuntimeError('config', `"${location}" is not an S3 location (s3://bucket/prefix)`);
    const bucket = match[1] ?? '';
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new RuntimeError('config', `"${location}": "${bucket}" is not a valid S3 bucket name`);
    }
    const path = match[2] ?? '';
    checkRelative('prefix', path, `s3://${bucket}/`);
    this.bucket = bucket;
    this.prefix = path === '' || path.endsWith('/') ? path : `${path}/`;
    this.url = `s3://${bucket}/${this.prefix}`;

    this.multipartThreshold = options.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD;
    this.partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE;
    if (!(this.partSize >= MIN_PART_SIZE)) {
      throw new RuntimeError('config', `${this.url}: partSizeBytes must be at least ${MIN_PART_SIZE} (5 MiB)`);
    }
    if (!(this.multipartThreshold >= 0)) {
      throw new RuntimeError('config', `${this.url}: multipartThresholdBytes must not be negative`);
    }

    if (options.client) {
      this.client = Promise.resolve(options.client);
      this.config = undefined;
    } else {
      const endpoint = options.endpoint ?? env('AWS_ENDPOINT_URL_S3') ?? env('AWS_ENDPOINT_URL');
      const config: S3ClientConfig = {
        region: options.region ?? env('AWS_REGION') ?? env('AWS_DEFAULT_REGION') ?? 'us-east-1',
        forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
      };
      if (endpoint !== undefined) {
        config.endpoint = endpoint;
        // S3-compatible servers often lack the newer default CRC checksums (aws-chunked trailers):
        // send and check them only where an operation requires them.
        config.requestChecksumCalculation = 'WHEN_REQUIRED';
        config.responseChecksumValidation = 'WHEN_REQUIRED';
      }
      this.config = config;
    }
  }

  /** The S3 client: the one given, or one made from the options on first use. */
  s3(): Promise<S3Client> {
    return (this.client ??= sdk().then((m) => new m.S3Client(this.config!)));
  }

  /** Closes the client's connections (only a client the store created itself). */
  close(): void {
    if (this.config !== undefined) {
      this.client?.then(
        (client) => client.destroy(),
        () => undefined, // never made: nothing to close (the failure was reported where it was used)
      );
    }
  }

  private objectKey(key: string): string {
    checkRelative('key', key, this.url);
    return this.prefix + key;
  }

  private fail(key: string, what: string, error: unknown): RuntimeError {
    return new RuntimeError('store', `s3://${this.bucket}/${this.prefix}${key}: ${what}: ${describeError(error)}`, {
      cause: error,
    });
  }

  async putFile(key: string, localFile: string): Promise<void> {
    const Key = this.objectKey(key);
    let size: number;
    try {
      size = (await stat(localFile)).size;
    } catch (error) {
      throw this.fail(key, `upload of ${localFile} failed`, error);
    }
    if (size <= this.multipartThreshold) {
      try {
        await (
          await this.s3()
        ).send(
          new (await sdk()).PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: createReadStream(localFile),
            ContentLength: size,
          }),
        );
      } catch (error) {
        throw this.fail(key, `upload of ${localFile} failed`, error);
      }
      return;
    }
    // Multipart: the object appears only when CompleteMultipartUpload succeeds. On any failure
    // (a part, the read stream, the completion) Upload aborts the multipart upload, so no parts
    // are left behind to be billed.
    const { Upload } = await import('@aws-sdk/lib-storage');
    const upload = new Upload({
      client: await this.s3(),
      params: { Bucket: this.bucket, Key, Body: createReadStream(localFile), ContentLength: size },
      partSize: this.partSize,
      queueSize: UPLOAD_QUEUE,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      throw this.fail(key, `multipart upload of ${localFile} failed`, error);
    }
  }

  async put(key: string, data: Uint8Array | string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await (await this.s3()).send(new (await sdk()).PutObjectCommand({ Bucket: this.bucket, Key, Body: data }));
    } catch (error) {
      throw this.fail(key, 'put failed', error);
    }
  }

  async putIfAbsent(key: string, data: Uint8Array | string): Promise<boolean> {
    const Key = this.objectKey(key);
    try {
      await (
        await this.s3()
      ).send(new (await sdk()).PutObjectCommand({ Bucket: this.bucket, Key, Body: data, IfNoneMatch: '*' }));
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw this.fail(key, 'conditional put (If-None-Match) failed', error);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const Key = this.objectKey(key);
    try {
      const response = await (await this.s3()).send(new (await sdk()).GetObjectCommand({ Bucket: this.bucket, Key }));
      if (!response.Body) return new Uint8Array();
      return await response.Body.transformToByteArray();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.fail(key, 'get failed', error);
    }
  }

  async download(key: string, localFile: string): Promise<boolean> {
    const Key = this.objectKey(key);
    // Into a hidden temporary file beside the target, renamed into place when complete: the
    // target is never a partial file.
    const temp = join(dirname(localFile), `.tmp-${randomBytes(6).toString('hex')}-${basename(localFile)}`);
    try {
      let body: Readable;
      try {
        const response = await (await this.s3()).send(new (await sdk()).GetObjectCommand({ Bucket: this.bucket, Key }));
        body = response.Body as Readable;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
      await pipeline(body, createWriteStream(temp));
      await rename(temp, localFile);
      return true;
    } catch (error) {
      throw this.fail(key, `download to ${localFile} failed`, error);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    checkRelative('prefix', prefix, this.url);
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    try {
      do {
        const response = await (
          await this.s3()
        ).send(
          new (await sdk()).ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(token !== undefined && { ContinuationToken: token }),
          }),
        );
        for (const object of response.Contents ?? []) {
          if (object.Key === undefined || !object.Key.startsWith(this.prefix)) continue;
          out.push({
            key: object.Key.slice(this.prefix.length),
            size: object.Size ?? 0,
            lastModified: object.LastModified ?? new Date(0),
          });
        }
        token = response.IsTruncated ? response.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw this.fail(prefix, 'list failed', error);
    }
    // S3 sorts by UTF-8 bytes; sort like FileStore (UTF-16 code units) so both stores agree.
    return out.sort(byKey);
  }

  async rename(from: string, to: string): Promise<boolean> {
    const source = this.objectKey(from);
    try {
      // CopySource is bucket/key, URI-encoded per segment.
      const copySource = `${this.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`;
      await (
        await this.s3()
      ).send(
        new (await sdk()).CopyObjectCommand({ Bucket: this.bucket, Key: this.objectKey(to), CopySource: copySource }),
      );
    } catch (error) {
      if (isNotFound(error)) return false;
      throw this.fail(from, `copy to ${to} failed`, error);
    }
    await this.delete([from]);
    return true;
  }

  async delete(keys: readonly string[]): Promise<void> {
    const unique = [...new Set(keys)];
    const objectKeys = unique.map((key) => this.objectKey(key));
    for (let start = 0; start < objectKeys.length; start += DELETE_BATCH) {
      const batch = objectKeys.slice(start, start + DELETE_BATCH);
      let errors;
      try {
        const response = await (
          await this.s3()
        ).send(
          new (await sdk()).DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        errors = response.Errors ?? [];
      } catch (error) {
        throw this.fail(unique[start] ?? '', `delete of ${batch.length} object(s) failed`, error);
      }
      // Missing keys are no error in S3; anything reported here is (e.g. AccessDenied).
      const first = errors[0];
      if (first) {
        const key = first.Key?.startsWith(this.prefix) ? first.Key.slice(this.prefix.length) : (first.Key ?? '');
        throw new RuntimeError(
          'store',
          `s3://${this.bucket}/${this.prefix}${key}: delete failed: ${first.Code ?? 'Error'}: ${first.Message ?? ''}` +
            (errors.length > 1 ? ` (and ${errors.length - 1} more object(s))` : ''),
        );
      }
    }
  }
}
