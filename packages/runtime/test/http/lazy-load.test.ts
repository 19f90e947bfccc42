import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built runtime (npm test builds it first): what a connector process loads.
const runtime = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

// A PostgreSQL connector never makes an HTTP request: loading the runtime must not load the HTTP
// client's undici or the SigV4 signer (CommonJS packages, so they show in require.cache once loaded).
const script = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = () => Object.keys(require.cache).filter((k) => /[\\\\/](undici|@smithy[\\\\/]signature-v4)[\\\\/]/.test(k)).length;
const rt = await import(${JSON.stringify(runtime)});
const atStart = loaded();
const client = new rt.HttpClient({ retry: { maxAttempts: 1 } });
await client.send({ url: 'http://127.0.0.1:9/' }).catch(() => undefined);
console.log(JSON.stringify({ atStart, afterRequest: loaded() }));
`;

describe('HTTP layer loading', () => {
  it('loads undici on the first request, not with the runtime', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const { atStart, afterRequest } = JSON.parse(out.trim()) as { atStart: number; afterRequest: number };
    expect(atStart).toBe(0);
    expect(afterRequest).toBeGreaterThan(0);
  }, 60_000);
});
