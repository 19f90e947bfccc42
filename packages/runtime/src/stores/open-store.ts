import { RuntimeError } from '../errors.js';
import { FileStore } from './file/file-store.js';
import type { ObjectStore } from './object-store.js';
import { S3Store, type S3StoreOptions } from './s3/s3-store.js';

/**
 * The store for a table location: `s3://bucket/prefix` → S3Store (with `options`), `file:///path` or a
 * plain local path → FileStore. Any other URL scheme is a config error.
 */
export function openStore(location: string, options?: S3StoreOptions): ObjectStore {
  if (location.startsWith('s3://')) return new S3Store(location, options);
  if (location.startsWith('file://')) return new FileStore(location);
  // A scheme (`gs://`, `https:`, `s3a://` …) that is not a Windows drive letter (`C:\…`).
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(location)?.[1];
  if (scheme !== undefined && scheme.length > 1) {
    throw new RuntimeError(
      'config',
      `unsupported store location "${location}": use s3://bucket/prefix, file:///path or a local path`,
    );
  }
  return new FileStore(location);
}
