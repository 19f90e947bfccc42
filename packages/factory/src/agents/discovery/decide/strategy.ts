import type { ProviderDefinition, UpdateStrategy } from '@connector-factory/ir';
import type { IntentMention } from '../description/mentions.js';
import type { OpenApiFacts } from '../inputs/openapi.js';
import type { Notes } from '../notes.js';
import type { StrategyHint } from '../source-manifest.js';
import { quoteWords } from './intent-words.js';

function incrementalKeyFor(provider: ProviderDefinition, entities: readonly string[]): string | undefined {
  const only = entities.length === 1 ? entities[0]! : undefined;
  return (
    (only !== undefined ? provider.entities.incrementalFields?.[only] : undefined) ?? provider.entities.incrementalField
  );
}

/**
 * The update strategy: what the intents ask for when the provider offers it, else the nearest it offers
 * (with a warning); with no intent, an OpenAPI document's filters or the cheapest the provider offers.
 * `streamFallback`: a stream was asked for and is polled instead.
 */
export function decideStrategy(
  provider: ProviderDefinition,
  intents: readonly IntentMention[],
  entities: readonly string[],
  openapi: OpenApiFacts | undefined,
  notes: Notes,
): { strategy: StrategyHint; streamFallback: boolean } {
  const name = provider.displayName;
  const documented = openapi?.entities.filter((e) => entities.includes(e.name)) ?? [];
  const filtered = documented.filter((e) => e.incrementalParam !== undefined);
  const supports = (s: UpdateStrategy) =>
    openapi !== undefined && s === 'incremental' ? filtered.length > 0 : provider.strategies.includes(s);
  const stream = intents.find((i) => i.intent === 'stream');
  const changes = intents.find((i) => i.intent === 'stream' && i.changes);
  const incremental = intents.find((i) => i.intent === 'incremental');
  const full = intents.find((i) => i.intent === 'full_refresh');
  const key =
    openapi !== undefined ? filtered.find((e) => e.cursorField)?.cursorField : incrementalKeyFor(provider, entities);
  const unfiltered = documented.filter((e) => e.incrementalParam === undefined).map((e) => e.name);
  const incrementalHint = (reason: string): StrategyHint => ({
    updateStrategy: 'incremental',
    reason,
    ...(key !== undefined ? { incrementalKey: key } : {}),
  });
  const on = key !== undefined ? ` on ${key}` : '';
  const cdcFeature = provider.features?.find((f) => /^cdc\b/i.test(f));
  const fallbackFrom = (asked: string, wanted: UpdateStrategy): StrategyHint => {
    const offered = provider.strategies.join(', ');
    if (supports('incremental')) {
      notes.warn(`${name} does not offer ${wanted} (it offers ${offered}); ${asked} is read as incremental`);
      return incrementalHint(`${asked} asks for ${wanted}, which ${name} does not offer: incremental${on} instead`);
    }
    notes.warn(`${name} does not offer ${wanted} (it offers ${offered}); using full_refresh`);
    return { updateStrategy: 'full_refresh', reason: `${asked} asks for ${wanted}, which ${name} does not offer` };
  };

  if (provider.type === 'stream') {
    if (changes !== undefined && supports('cdc')) {
      return {
        strategy: {
          updateStrategy: 'cdc',
          reason: `${quoteWords(changes)} asks for change events: ${name} topics of Debezium-style change events are applied as cdc`,
        },
        streamFallback: false,
      };
    }
    if (full !== undefined) notes.warn(`${name} is read by offset and has no full refresh; reading incrementally`);
    return {
      strategy: incrementalHint(
        `${name} is consumed continuously by offset${stream !== undefined ? ` (${quoteWords(stream)})` : ''}`,
      ),
      streamFallback: false,
    };
  }
  if (provider.template === 'webhook') {
    if (full !== undefined || changes !== undefined) {
      notes.warn(
        `a webhook receiver only appends the events it is sent; ${quoteWords((full ?? changes)!)} does not apply`,
      );
    }
    return {
      strategy: incrementalHint('webhook events arrive one at a time and are appended as they come'),
      streamFallback: false,
    };
  }
  if (stream !== undefined) {
    const snapshotNote = full !== undefined ? ` (cdc starts from a snapshot, which covers ${quoteWords(full)})` : '';
    if (supports('cdc')) {
      return {
        strategy: {
          updateStrategy: 'cdc',
          reason: `${quoteWords(stream)} asks for changes as they happen; ${name} supports ${cdcFeature ?? 'cdc'}${snapshotNote}`,
        },
        streamFallback: false,
      };
    }
    const cdcNote = provider.features?.find((f) => /change data capture/i.test(f));
    notes.warn(
      `${name} cannot stream changes here (its registry entry offers ${provider.strategies.join(', ')}): the connector polls every 15 minutes instead${cdcNote !== undefined ? ` (${cdcNote})` : ''}`,
    );
    if (supports('incremental')) {
      return {
        strategy: incrementalHint(
          `${quoteWords(stream)} asks for changes as they happen, but ${name} offers no cdc: frequent incremental polling${on}`,
        ),
        streamFallback: true,
      };
    }
    return {
      strategy: {
        updateStrategy: 'full_refresh',
        reason: `${quoteWords(stream)} asks for changes as they happen, but ${name} offers neither cdc nor incremental`,
      },
      streamFallback: true,
    };
  }
  if (incremental !== undefined) {
    if (!supports('incremental'))
      return { strategy: fallbackFrom(quoteWords(incremental), 'incremental'), streamFallback: false };
    const fullNote = full !== undefined ? ` (after a first full load, which covers ${quoteWords(full)})` : '';
    return {
      strategy: incrementalHint(
        `${quoteWords(incremental)} asks for new and changed records only${on ? `, cursor${on.slice(3)}` : ''}${fullNote}`,
      ),
      streamFallback: false,
    };
  }
  if (full !== undefined) {
    if (!provider.strategies.includes('full_refresh')) {
      return { strategy: fallbackFrom(quoteWords(full), 'full_refresh'), streamFallback: false };
    }
    return {
      strategy: { updateStrategy: 'full_refresh', reason: `${quoteWords(full)} asks for a full copy on every run` },
      streamFallback: false,
    };
  }
  if (openapi !== undefined) {
    if (filtered.length > 0) {
      if (unfiltered.length > 0) {
        notes.warn(
          `${unfiltered.join(', ')}: no updated-since filter in the OpenAPI document, so read in full on every run`,
        );
      }
      return {
        strategy: incrementalHint(
          `the OpenAPI document filters ${filtered.map((e) => `GET ${e.path} by ${e.incrementalParam}`).join(', ')}`,
        ),
        streamFallback: false,
      };
    }
    return {
      strategy: {
        updateStrategy: 'full_refresh',
        reason: 'no collection of the OpenAPI document takes an updated-since filter, so each run reads everything',
      },
      streamFallback: false,
    };
  }
  if (supports('incremental') && key !== undefined) {
    return {
      strategy: incrementalHint(
        `no update strategy named: incremental${on} is the cheapest ${name} offers (say "full refresh" or "stream changes" otherwise)`,
      ),
      streamFallback: false,
    };
  }
  return {
    strategy: {
      updateStrategy: provider.strategies.includes('full_refresh') ? 'full_refresh' : provider.strategies[0]!,
      reason: `no update strategy named: ${name} offers ${provider.strategies.join(', ')}`,
    },
    streamFallback: false,
  };
}
