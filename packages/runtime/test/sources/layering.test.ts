import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const runtimeSrc = fileURLToPath(new URL('../../src/', import.meta.url));
const sourcesDir = join(runtimeSrc, 'sources');

/** Every module specifier a file imports or re-exports, resolved against the file when relative. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/\b(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((s) => (s.startsWith('.') ? relative(runtimeSrc, resolve(file, '..', s)) : s));
}

describe('sources/', () => {
  it('imports nothing from the lake writer: rows, records and the columnar hand-over come from neutral modules', () => {
    const files = readdirSync(sourcesDir, { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ts'))
      .map((name) => join(sourcesDir, name));
    expect(files.length).toBeGreaterThan(10);
    const offending = files.flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith('lake/'))
        .map((target) => `${relative(runtimeSrc, file)} → ${target}`),
    );
    expect(offending).toEqual([]);
  });
});
