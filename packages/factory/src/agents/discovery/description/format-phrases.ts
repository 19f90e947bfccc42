import type { LakeFormat } from '@connector-factory/ir';
import type { FormatMention } from './mentions.js';
import type { Scanner } from './scanner.js';

/** The lake format the words ask for: "as parquet", "delta tables", "json format". */
const FORMAT_RE =
  /\b(?:(?:as|in|into|to)\s+(?:an?\s+)?(delta|parquet|json|avro)(?:\s+(?:lake|tables?|files?|format))?|(delta|parquet|avro)\s+(?:format|tables?|lake)|(json)\s+format)\b/gi;

/** The first format named; a different second one is a warning. */
export function readFormat(scanner: Scanner, warnings: string[]): FormatMention | undefined {
  let format: FormatMention | undefined;
  for (const { match, start, end } of scanner.find(FORMAT_RE)) {
    const value = (match[1] ?? match[2] ?? match[3])!.toLowerCase() as LakeFormat;
    if (format === undefined) format = { format: value, words: match[0], start };
    else if (format.format !== value) warnings.push(`used format ${format.format}; ignored "${match[0]}"`);
    scanner.claim(start, end);
  }
  return format;
}
