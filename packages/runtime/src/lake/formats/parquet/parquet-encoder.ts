import type { Compression } from '@connector-factory/ir';
import { copyPerPartition, type EncodeRequest, type EncodedFile, type FormatEncoder } from '../../format-encoder.js';

/**
 * Parquet through DuckDB's COPY: int64 → INT64, float64 → DOUBLE, decimal(p,s) → DECIMAL(p,s),
 * date → DATE (INT32), timestamp → INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true), json → UTF8 string.
 * Files roll at the target size; partition folders come from the partition id. Row groups close at
 * `rowGroupBytes` of DuckDB's in-memory data (ROW_GROUP_SIZE_BYTES), at most 122 880 rows (DuckDB's
 * ROW_GROUP_SIZE default).
 */
export const parquetEncoder: FormatEncoder = {
  extension: () => '.parquet',
  async encode(request: EncodeRequest): Promise<EncodedFile[]> {
    return copyPerPartition(
      request,
      request.query,
      `FORMAT parquet, COMPRESSION ${compressionName(request.compression)}` +
        (request.rowGroupBytes !== undefined ? `, ROW_GROUP_SIZE_BYTES ${request.rowGroupBytes}` : ''),
      { returnStats: true },
    );
  },
};

function compressionName(compression: Compression | undefined): string {
  return compression ?? 'snappy';
}
