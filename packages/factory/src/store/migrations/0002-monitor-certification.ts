import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The Monitor's health checks, metrics snapshots, alerts and drift reports; the Certification agent's
 * per-deployment state and the registry of certified connector versions.
 *
 * Types that both dialects read back alike: booleans are integers 0/1 (SQLite has no boolean type and
 * better-sqlite3 cannot bind one), millisecond latencies `double precision` (a measured latency may
 * have a fraction), the certification window `bigint` (more than 24 days of milliseconds overflow an
 * integer; PostgreSQL returns it as text), JSON as text.
 */
export const monitorCertification: Migration = {
  // Migrations see the database as it was when they were written, not as the current types say.
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('cf_health_checks')
      .addColumn('deployment_id', 'text', (c) => c.notNull())
      .addColumn('time', 'text', (c) => c.notNull())
      .addColumn('healthy', 'integer', (c) => c.notNull().check(sql`healthy in (0, 1)`))
      .addColumn('latency_ms', 'double precision', (c) => c.notNull())
      .addColumn('reason', 'text')
      .execute();
    await db.schema
      .createIndex('cf_health_checks_deployment')
      .on('cf_health_checks')
      .columns(['deployment_id', 'time'])
      .execute();

    await db.schema
      .createTable('cf_metric_snapshots')
      .addColumn('deployment_id', 'text', (c) => c.notNull())
      .addColumn('time', 'text', (c) => c.notNull())
      .addColumn('metrics', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('cf_metric_snapshots_deployment')
      .on('cf_metric_snapshots')
      .columns(['deployment_id', 'time'])
      .execute();

    await db.schema
      .createTable('cf_alerts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('deployment_id', 'text', (c) => c.notNull())
      .addColumn('connector_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('first_at', 'text', (c) => c.notNull())
      .addColumn('last_at', 'text', (c) => c.notNull())
      .addColumn('resolved_at', 'text')
      .execute();
    await db.schema
      .createIndex('cf_alerts_deployment_key')
      .on('cf_alerts')
      .columns(['deployment_id', 'key', 'state'])
      .execute();
    await db.schema.createIndex('cf_alerts_connector').on('cf_alerts').columns(['connector_id', 'first_at']).execute();
    // At most one alert fires per deployment and key, even when two monitors open it at the same time.
    await db.schema
      .createIndex('cf_alerts_one_firing')
      .on('cf_alerts')
      .columns(['deployment_id', 'key'])
      .unique()
      .where(sql.ref('state'), '=', sql.lit('firing'))
      .execute();

    await db.schema
      .createTable('cf_drift_reports')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('connector_id', 'text', (c) => c.notNull())
      .addColumn('deployment_id', 'text', (c) => c.notNull())
      .addColumn('time', 'text', (c) => c.notNull())
      .addColumn('classification', 'text', (c) => c.notNull())
      .addColumn('changes', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('proposed_version', 'text')
      .addColumn('proposed_manifest_path', 'text')
      .execute();
    await db.schema
      .createIndex('cf_drift_reports_connector')
      .on('cf_drift_reports')
      .columns(['connector_id', 'time'])
      .execute();
    await db.schema
      .createIndex('cf_drift_reports_deployment')
      .on('cf_drift_reports')
      .columns(['deployment_id', 'time'])
      .execute();

    await db.schema
      .createTable('cf_certifications')
      .addColumn('deployment_id', 'text', (c) => c.primaryKey())
      .addColumn('connector_id', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('window_ms', 'bigint', (c) => c.notNull())
      .addColumn('monitoring_since', 'text')
      .addColumn('reason', 'text')
      .addColumn('decided_by', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('cf_certifications_connector')
      .on('cf_certifications')
      .columns(['connector_id', 'updated_at'])
      .execute();
    await db.schema
      .createIndex('cf_certifications_state')
      .on('cf_certifications')
      .columns(['state', 'updated_at'])
      .execute();

    await db.schema
      .createTable('cf_connector_registry')
      .addColumn('connector_id', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('deployment_id', 'text', (c) => c.notNull())
      .addColumn('manifest_digest', 'text', (c) => c.notNull())
      .addColumn('evidence', 'text', (c) => c.notNull())
      .addColumn('certifier', 'text', (c) => c.notNull())
      .addColumn('certified_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('cf_connector_registry_pk', ['connector_id', 'version'])
      .execute();
    await db.schema
      .createIndex('cf_connector_registry_certified')
      .on('cf_connector_registry')
      .column('certified_at')
      .execute();
  },
};
