import type { Compression } from '@connector-factory/ir';
import { quoteLiteral } from '../../../engine/duckdb-engine.js';
import { listEncodedFiles, type EncodeRequest, type EncodedFile, type FormatEncoder } from '../../format-encoder.js';
import { PART } from '../../stage.js';

/**
 * Parquet through DuckDB's COPY: int64 → INT64, float64 → DOUBLE, decimal(p,s) → DECIMAL(p,s),
 * date → DATE (INT32), timestamp → INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true), json → UTF8 string.
 * Files roll at the target size; partition folders come from the partition id.
 */
export const parquetEncoder: FormatEncoder = {
  extension: () => '.parquet',
  async encode(request: EncodeRequest): Promise<EncodedFile[]> {
    await request.connection.run(
      `COPY (${request.query}) TO ${quoteLiteral(request.dir)} (FORMAT parquet, COMPRESSION ${compressionName(request.compression)}, ` +
        `PARTITION_BY (${PART}), FILENAME_PATTERN ${quoteLiteral(`${request.filePrefix}-{i}`)}, ` +
        `FILE_SIZE_BYTES ${request.targetFileBytes}, OVERWRITE_OR_IGNORE true)`,
    );
    return listEncodedFiles(request.dir);
  },
};

function compressionName(compression: Compression | undefined): string {
  return compression ?? 'snappy';
}
