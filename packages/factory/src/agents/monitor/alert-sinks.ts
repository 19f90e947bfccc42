import type { AlertRecord } from '../../records/index.js';
import { setTimeout as delay } from 'node:timers/promises';

/** What an alert sink receives: an alert that started firing, got worse, or resolved. */
export interface AlertEvent {
  readonly event: 'firing' | 'escalated' | 'resolved';
  readonly alert: AlertRecord;
}

/** Where alerts go. A sink that fails reports it; it never stops the monitor. */
export interface AlertSink {
  readonly name: string;
  notify(event: AlertEvent): Promise<void>;
}

/** One line per alert event (the monitor's stdout). */
export function lineSink(print: (line: string) => void): AlertSink {
  return {
    name: 'stdout',
    async notify({ event, alert }) {
      const mark = event === 'resolved' ? 'RESOLVED' : alert.severity.toUpperCase();
      print(`ALERT ${mark} ${alert.connectorId} ${alert.key}: ${alert.message} (${alert.deploymentId})`);
    },
  };
}

/**
 * POSTs each alert event as JSON (`{event, alert}`) to a webhook URL, with a 5 s timeout and two
 * retries; a non-2xx answer counts as a failure.
 */
export function webhookSink(url: string, options: { readonly attempts?: number } = {}): AlertSink {
  const attempts = options.attempts ?? 3;
  return {
    name: `webhook ${new URL(url).origin}`,
    async notify(event) {
      let last = '';
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'user-agent': 'connector-factory-monitor' },
            body: JSON.stringify(event),
            signal: AbortSignal.timeout(5000),
          });
          if (response.ok) return;
          last = `answered ${response.status}`;
        } catch (error) {
          last = (error as Error).message;
        }
        if (attempt < attempts) await delay(250 * attempt);
      }
      throw new Error(`the alert webhook ${new URL(url).origin} failed: ${last}`);
    },
  };
}
