#!/usr/bin/env node
// Writes the JSON Schemas of the manifest and of a provider file from packages/ir (built first).
// With --check it writes nothing and fails when a committed copy is stale, so CI catches a schema
// change that was not exported.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { manifestJsonSchema, providerJsonSchema } = await import(join(root, 'packages/ir/dist/index.js'));
const targets = [
  [join(root, 'packages/ir/schema/connector-manifest.schema.json'), manifestJsonSchema()],
  [join(root, 'packages/ir/schema/provider.schema.json'), providerJsonSchema()],
];
const check = process.argv.includes('--check');
let stale = 0;
for (const [file, schema] of targets) {
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  const name = relative(root, file);
  if (check) {
    const current = await readFile(file, 'utf8').catch(() => '');
    if (current !== text) {
      console.error(`${name} is stale: run \`npm run schema:export\` and commit it`);
      stale++;
    }
  } else {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    console.log(`wrote ${name}`);
  }
}
if (check && stale === 0) console.log('JSON Schemas are up to date');
process.exitCode = stale > 0 ? 1 : 0;
