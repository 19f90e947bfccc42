import type { ProviderDefinition } from '@connector-factory/ir';
import type { ParsedDescription } from '../description/mentions.js';
import type { Notes } from '../notes.js';
import type { StrategyHint } from '../source-manifest.js';
import { quoteWords } from './intent-words.js';

/**
 * The cursor column the words name ("incremental on modified_at", "using modified_at as the cursor",
 * "by modified_at") is the incremental key; naming one without another strategy asks for incremental.
 * The schema agent checks it against the table's columns.
 */
export function withNamedCursor(
  strategy: StrategyHint,
  parsed: ParsedDescription,
  provider: ProviderDefinition,
  notes: Notes,
): StrategyHint {
  const cursor = parsed.cursor;
  if (cursor === undefined) return strategy;
  const explicit = parsed.intents.some((i) => i.intent !== 'incremental');
  if (strategy.updateStrategy !== 'incremental' && (explicit || !provider.strategies.includes('incremental'))) {
    notes.match(
      cursor.words,
      `cursor column ${cursor.column}, not used: ${strategy.updateStrategy} needs no cursor`,
      cursor.start,
    );
    notes.warn(
      `"${cursor.words}" names a cursor, but the connector uses ${strategy.updateStrategy}; the cursor is not used`,
    );
    return strategy;
  }
  notes.match(
    cursor.words,
    `cursor column ${cursor.column} (incrementalKey; checked against the table's columns)`,
    cursor.start,
  );
  const asked = parsed.intents.find((i) => i.intent === 'incremental');
  const reason =
    asked !== undefined
      ? `${quoteWords(asked)} asks for new and changed records only, cursor ${cursor.column} (as named)`
      : `"${cursor.words}" names a cursor column: incremental on ${cursor.column}`;
  return { updateStrategy: 'incremental', reason, incrementalKey: cursor.column, namedCursor: cursor.column };
}
