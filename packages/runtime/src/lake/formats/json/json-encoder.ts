import type { Compression } from '@connector-factory/ir';
import { quoteIdent } from '../../../engine/duckdb-engine.js';
import { copyPerPartition, type EncodeRequest, type EncodedFile, type FormatEncoder } from '../../format-encoder.js';
import { PART } from '../../stage.js';
import type { Column } from '../../table-schema.js';

/** How each column is written in a JSON line: exact decimals as strings, timestamps as ISO-8601 UTC. */
function jsonExpression(column: Column): string {
  const name = quoteIdent(column.name);
  switch (column.physical.kind) {
    case 'timestamp':
      return `strftime(${name}, '%Y-%m-%dT%H:%M:%S.%fZ') AS ${name}`;
    case 'decimal':
      return `CAST(${name} AS VARCHAR) AS ${name}`;
    case 'json':
      return `CAST(${name} AS JSON) AS ${name}`;
    case 'date':
      return `strftime(${name}, '%Y-%m-%d') AS ${name}`;
    default:
      return name;
  }
}

/**
 * Newline-delimited JSON through DuckDB's COPY, optionally gzip or zstd compressed: int64 and float64
 * as JSON numbers, decimals as strings (exact), booleans, dates as "YYYY-MM-DD", timestamps as
 * "2025-01-31T12:00:00.123456Z", json columns as nested JSON.
 */
export const jsonEncoder: FormatEncoder = {
  extension: (compression) => (compression === 'gzip' ? '.json.gz' : compression === 'zstd' ? '.json.zst' : '.json'),
  async encode(request: EncodeRequest): Promise<EncodedFile[]> {
    const select = `SELECT ${request.columns.map(jsonExpression).join(', ')}, ${PART} FROM (${request.query})`;
    return copyPerPartition(request, select, `FORMAT json, COMPRESSION ${compressionName(request.compression)}`);
  },
};

function compressionName(compression: Compression | undefined): string {
  return compression === 'gzip' || compression === 'zstd' ? compression : 'uncompressed';
}
