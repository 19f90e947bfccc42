import type { Kysely, Migration } from 'kysely';
import { GENESIS_HASH } from '../../audit/receipt-hash.js';

/** Deployments, approvals (with one vote per approver) and the audit log with its head row. */
export const initial: Migration = {
  // Migrations see the database as it was when they were written, not as the current types say.
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('cf_deployments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('connector_id', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('environment', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('package_dir', 'text', (c) => c.notNull())
      .addColumn('working_dir', 'text', (c) => c.notNull())
      .addColumn('package_digest', 'text', (c) => c.notNull())
      .addColumn('manifest_digest', 'text', (c) => c.notNull())
      .addColumn('env_names', 'text', (c) => c.notNull())
      .addColumn('instance_id', 'text')
      .addColumn('endpoint', 'text')
      .addColumn('health_url', 'text')
      .addColumn('previous_deployment_id', 'text')
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('cf_deployments_connector')
      .on('cf_deployments')
      .columns(['connector_id', 'created_at'])
      .execute();

    await db.schema
      .createTable('cf_approvals')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('resource', 'text', (c) => c.notNull())
      .addColumn('risk_level', 'text', (c) => c.notNull())
      .addColumn('evidence', 'text', (c) => c.notNull())
      .addColumn('requested_by', 'text', (c) => c.notNull())
      .addColumn('requested_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('decided_by', 'text')
      .addColumn('decided_at', 'text')
      .addColumn('reason', 'text')
      .execute();
    await db.schema.createIndex('cf_approvals_status').on('cf_approvals').columns(['status', 'expires_at']).execute();
    await db.schema.createIndex('cf_approvals_resource').on('cf_approvals').column('resource').execute();

    await db.schema
      .createTable('cf_approval_votes')
      .addColumn('approval_id', 'text', (c) => c.notNull().references('cf_approvals.id'))
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('voted_at', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addPrimaryKeyConstraint('cf_approval_votes_pk', ['approval_id', 'actor'])
      .execute();

    await db.schema
      .createTable('cf_audit_receipts')
      .addColumn('seq', 'integer', (c) => c.primaryKey())
      .addColumn('time', 'text', (c) => c.notNull())
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('agent', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('resource', 'text', (c) => c.notNull())
      .addColumn('risk_level', 'text', (c) => c.notNull())
      .addColumn('inputs', 'text', (c) => c.notNull())
      .addColumn('outputs', 'text', (c) => c.notNull())
      .addColumn('result', 'text', (c) => c.notNull())
      .addColumn('details', 'text')
      .addColumn('signature', 'text')
      .addColumn('key_id', 'text')
      .execute();

    await db.schema
      .createTable('cf_audit_head')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
    await (db as Kysely<{ cf_audit_head: { id: number; seq: number; hash: string } }>)
      .insertInto('cf_audit_head')
      .values({ id: 1, seq: 0, hash: GENESIS_HASH })
      .execute();
  },
};
