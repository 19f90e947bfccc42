import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Two projects: `quick` runs in seconds with no services; `services` needs the servers that
// scripts/services.sh starts (PostgreSQL, MariaDB, …) and is named *.int.test.ts.
const src = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  // Tests run against the sources of the other packages, so they need no build (the CLI tests
  // spawn the real binary, which `npm test` builds first).
  resolve: {
    alias: {
      '@connector-factory/ir': src('ir'),
      '@connector-factory/factory': src('factory'),
      // The subpath first: aliases match by prefix.
      '@connector-factory/runtime/postgres-types': fileURLToPath(
        new URL('./packages/runtime/src/sources/postgres/postgres-values.ts', import.meta.url),
      ),
      '@connector-factory/runtime/source-kinds': fileURLToPath(
        new URL('./packages/runtime/src/sources/registry.ts', import.meta.url),
      ),
      '@connector-factory/runtime/source-errors': fileURLToPath(
        new URL('./packages/runtime/src/sources/source-errors.ts', import.meta.url),
      ),
      '@connector-factory/runtime/node-flags': fileURLToPath(
        new URL('./packages/runtime/src/connector/node-flags.ts', import.meta.url),
      ),
      '@connector-factory/runtime': src('runtime'),
    },
  },
  test: {
    // The audit signing key a command creates on first use goes here, never into the real ~/.config.
    env: { CONNECTOR_FACTORY_CONFIG: join(tmpdir(), 'connector-factory-test-config') },
    projects: [
      {
        extends: true,
        test: {
          name: 'quick',
          // The CLI tests spawn the built binary; on two busy cores one can take several seconds.
          testTimeout: 30_000,
          include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/*.e2e.test.ts', '**/*.fault.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'services',
          include: ['packages/*/test/**/*.int.test.ts', 'test/**/*.int.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // End-to-end agent tests: each builds and runs generated connectors (npm install, tsc, esbuild,
        // child processes). They run after the services project so their CPU load does not starve its
        // timing-sensitive replication tests on a two-core machine.
        extends: true,
        test: {
          name: 'e2e',
          include: ['packages/*/test/**/*.e2e.test.ts', 'test/**/*.e2e.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        // Tests that restart or kill shared services: run on their own, after the others, one file at a time.
        extends: true,
        test: {
          name: 'faults',
          include: ['packages/*/test/**/*.fault.test.ts', 'test/**/*.fault.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
