import type { IntentMention } from '../description/mentions.js';
import type { StrategyHint } from '../source-manifest.js';

/** The intent's words in quotes, as explanations cite them. */
export function quoteWords(intent: IntentMention): string {
  return `"${intent.words}"`;
}

/** What an intent was read as, and the strategy it led to. */
export function describeIntent(intent: IntentMention, strategy: StrategyHint): string {
  const kind =
    intent.intent === 'stream' ? (intent.changes ? 'change capture' : 'streaming') : intent.intent.replace('_', ' ');
  return `${kind} intent → updateStrategy ${strategy.updateStrategy}`;
}
