import { LineCounter, isCollection, parseDocument, type Document } from 'yaml';
import type { JsonPath } from '@connector-factory/ir';
import { findJsonError } from './json-position.js';

/** A position in a text file, 1-based, as editors show it. */
export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

export type ParsedText =
  | { readonly ok: true; readonly value: unknown; readonly positionOf: (path: JsonPath) => TextPosition | undefined }
  | { readonly ok: false; readonly message: string; readonly position?: TextPosition };

/**
 * Parses JSON or YAML text and keeps a map from JSON paths back to line and column, so a problem found
 * in the data can be reported where it sits in the file. JSON goes through JSON.parse first for its
 * exact error positions; YAML (a superset of JSON) then provides the node positions.
 */
export function parseStructuredText(text: string, format: 'json' | 'yaml'): ParsedText {
  if (format === 'json') {
    try {
      JSON.parse(text);
    } catch (error) {
      return { ok: false, ...jsonSyntaxError(text, (error as Error).message) };
    }
  }
  const lineCounter = new LineCounter();
  const document: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = document.errors[0];
  if (first) {
    const [start] = first.pos;
    const { line, col } = lineCounter.linePos(start);
    return { ok: false, message: first.message.split('\n')[0]!, position: { line, column: col } };
  }
  const positionOf = (path: JsonPath): TextPosition | undefined => {
    // Walk up to the nearest ancestor that exists, so an unknown or missing key still gets a line.
    for (let depth = path.length; depth >= 0; depth--) {
      const node = depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) {
        const start = depth > 0 && depth === path.length ? (keyStart(document, path) ?? range[0]) : range[0];
        const { line, col } = lineCounter.linePos(start);
        return { line, column: col };
      }
    }
    return undefined;
  };
  return { ok: true, value: document.toJS({ maxAliasCount: 100 }), positionOf };
}

/** Start of the key that holds `path` in its parent map, so messages point at `"key": value`. */
function keyStart(document: Document, path: JsonPath): number | undefined {
  const parent = path.length === 1 ? document.contents : document.getIn(path.slice(0, -1), true);
  if (!isCollection(parent)) return undefined;
  for (const item of parent.items as Array<{ key?: { value?: unknown; range?: [number, number, number] } }>) {
    if (item.key && item.key.value === path[path.length - 1] && item.key.range) return item.key.range[0];
  }
  return undefined;
}

function jsonSyntaxError(text: string, message: string): { message: string; position?: TextPosition } {
  const error = findJsonError(text);
  if (!error) return { message };
  const lines = text.slice(0, error.offset).split('\n');
  return { message: error.reason, position: { line: lines.length, column: lines[lines.length - 1]!.length + 1 } };
}
