import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuditLog,
  digestOf,
  openStateStore,
  type AuditSigner,
  type ReceiptInput,
  type StateStore,
} from '@connector-factory/factory';

const open: StateStore[] = [];

/** Closes every store `freshLog` opened; register with `afterEach(closeFreshLogs)`. */
export async function closeFreshLogs(): Promise<void> {
  await Promise.all(open.splice(0).map((store) => store.close()));
}

/** An audit log on its own state database in a new temporary folder. */
export async function freshLog(signer?: AuditSigner) {
  const file = join(mkdtempSync(join(tmpdir(), 'cf-audit-')), 'state.db');
  const store = await openStateStore(file);
  open.push(store);
  return { file, store, log: new AuditLog(store, signer) };
}

/** The n-th receipt of a `generate` action on the orders connector. */
export const receiptInput = (n: number, details: Record<string, unknown> = { files: n }): ReceiptInput => ({
  action: 'generate',
  agent: 'codegen',
  actor: 'alice',
  resource: 'connector_postgres_orders_v1',
  riskLevel: 'medium',
  inputs: { manifest: digestOf({ n }) },
  outputs: { package: digestOf(`package ${n}`) },
  result: 'success',
  details,
});
