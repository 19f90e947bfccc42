import { parseArgs } from 'node:util';
import { openFactoryContext } from '../../../orchestrator/factory-context.js';
import { lineSink, webhookSink, type AlertSink } from '../../monitor/alert-sinks.js';
import { Monitor } from '../../monitor/monitor.js';
import { serveSupervisor } from './serve-supervisor.js';

// The background supervisor `deploy` starts when none runs:
//   node supervisor-main.js --home <dir> [--state <location>] [--monitor-interval <ms>]
// It runs the Monitor agent beside the connectors (every 30 s unless told otherwise; 0 = none), its
// alerts in its log and, with CONNECTOR_FACTORY_ALERT_WEBHOOK set, on that webhook.
const { values } = parseArgs({
  options: { home: { type: 'string' }, state: { type: 'string' }, 'monitor-interval': { type: 'string' } },
  strict: true,
});
const interval = Number(values['monitor-interval'] ?? '30000');
if (values.home === undefined || !Number.isInteger(interval) || interval < 0) {
  process.stderr.write('usage: supervisor-main --home <dir> [--state <location>] [--monitor-interval <ms>]\n');
  process.exit(2);
}
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
const context = await openFactoryContext({
  home: values.home,
  ...(values.state !== undefined ? { state: values.state } : {}),
  actor: 'supervisor',
});
const webhook = process.env.CONNECTOR_FACTORY_ALERT_WEBHOOK;
const sinks: AlertSink[] = [lineSink(log), ...(webhook ? [webhookSink(webhook)] : [])];
try {
  await serveSupervisor({
    home: values.home,
    store: context.store,
    signal: controller.signal,
    log,
    ...(interval > 0
      ? {
          alongside: (target, signal) =>
            new Monitor({
              store: context.store,
              target,
              audit: context.audit,
              riskOf: (action) => context.cars.riskOf(action),
              home: context.home,
              sinks,
              log,
            }).run(interval, signal),
        }
      : {}),
  });
} finally {
  await context.close();
}
