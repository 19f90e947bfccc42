import type { ProviderDefinition } from '@connector-factory/ir';
import type { ParsedDescription } from '../description/mentions.js';
import type { Notes } from '../notes.js';
import type { ScheduleHint, StrategyHint } from '../source-manifest.js';
import { quoteWords } from './intent-words.js';

/** How often a source without cdc is polled when the description asks for a stream (the spec's example schedule). */
const FREQUENT_CRON = '0 */15 * * * *';
const HOURLY_CRON = '0 0 * * * *';
const NIGHTLY_CRON = '0 0 2 * * *';

/**
 * When the connector runs: a webhook on each event; else the schedule the words name; else continuously
 * for cdc and stream consumers, every 15 minutes for a polled stream, nightly for a full refresh, hourly otherwise.
 */
export function decideSchedule(
  provider: ProviderDefinition,
  strategy: StrategyHint,
  parsed: ParsedDescription,
  streamFallback: boolean,
  sender: ProviderDefinition | undefined,
  notes: Notes,
): ScheduleHint {
  if (provider.template === 'webhook') {
    const eventSource = `/webhooks/${sender?.provider ?? 'events'}`;
    if (parsed.schedule !== undefined) {
      notes.warn(`a webhook receiver runs when events arrive; ignored "${parsed.schedule.words}"`);
    }
    return {
      type: 'event',
      eventSource,
      reason: `a webhook receiver runs when ${sender?.displayName ?? 'the sender'} posts an event to ${eventSource}`,
    };
  }
  if (parsed.schedule !== undefined) return { ...parsed.schedule.spec, reason: parsed.schedule.reason };
  if (strategy.updateStrategy === 'cdc') {
    return {
      type: 'continuous',
      reason: `cdc runs continuously, applying changes as ${provider.displayName} records them`,
    };
  }
  if (provider.type === 'stream') {
    return { type: 'continuous', reason: `a ${provider.displayName} consumer runs continuously` };
  }
  if (streamFallback) {
    const stream = parsed.intents.find((i) => i.intent === 'stream')!;
    return {
      type: 'cron',
      expression: FREQUENT_CRON,
      reason: `${quoteWords(stream)} without cdc: poll every 15 minutes, the spec's schedule for near-real-time API sources`,
    };
  }
  if (strategy.updateStrategy === 'full_refresh') {
    return {
      type: 'cron',
      expression: NIGHTLY_CRON,
      reason: 'no schedule named: daily at 02:00, since a full refresh re-reads everything',
    };
  }
  return {
    type: 'cron',
    expression: HOURLY_CRON,
    reason: 'no schedule named: hourly, a common pace for incremental syncs',
  };
}
