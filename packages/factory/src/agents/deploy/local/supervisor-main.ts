import { parseArgs } from 'node:util';
import { openStateStore } from '../../../store/open-state-store.js';
import { serveSupervisor } from './serve-supervisor.js';

// The background supervisor `deploy` starts when none runs: `node supervisor-main.js --home <dir> [--state <location>]`.
const { values } = parseArgs({ options: { home: { type: 'string' }, state: { type: 'string' } }, strict: true });
if (values.home === undefined) {
  process.stderr.write('usage: supervisor-main --home <dir> [--state <location>]\n');
  process.exit(2);
}
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());
const store = await openStateStore(values.state);
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
try {
  await serveSupervisor({ home: values.home, store, signal: controller.signal, log });
} finally {
  await store.close();
}
