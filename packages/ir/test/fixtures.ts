import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));

/** A fresh, deep copy of an example manifest, to mutate in a test. */
export function example(name: 'postgres-orders-cdc' | 'salesforce-opportunity'): Record<string, any> {
  return JSON.parse(readFileSync(`${examples}${name}.json`, 'utf8'));
}
