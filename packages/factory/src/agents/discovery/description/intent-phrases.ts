import type { IntentKind, IntentMention } from './mentions.js';
import type { Scanner } from './scanner.js';

/** Words about how to read: incremental, full refresh, change capture, streaming. */
const FULL_RE =
  /\b(full[\s-]refresh(?:es)?|full\s+(?:load|sync|copy|export|extract|snapshot|dump|reload)s?|snapshots?|everything\s+once|one[\s-](?:off|time)|once|full|entire\s+(?:table|dataset|history)s?|backfill|reload\s+everything)\b/gi;
const INCREMENTAL_RE =
  /\b(incremental(?:ly)?|new\s+(?:and\s+(?:updated|changed)\s+)?(?:rows|records|items|entries)|(?:updates?|updated|modified|changed|changes)\s+since(?:\s+(?:the\s+)?last\s+(?:run|sync|load))?|since\s+(?:the\s+)?last\s+(?:run|sync|load)|only\s+(?:new|changed|updated|modified)|deltas|upserts?)\b/gi;
const CHANGES_RE =
  /\b(change\s+data\s+capture|cdc|change\s+events?|changes|changed\s+rows|debezium|logical\s+replication|binlog|wal|replicat(?:e|es|ing|ion))\b/gi;
const LIVE_RE =
  /\b(near[\s-]real[\s-]?time|real[\s-]?time|stream(?:s|ing|ed)?|continuous(?:ly)?|live|as\s+(?:they|it)\s+happens?|low[\s-]latency)\b/gi;

/** The intents of the words in order, neighbours of one kind merged ("Stream changes" is one wish). */
export function readIntents(scanner: Scanner): IntentMention[] {
  const text = scanner.text;
  const intents: IntentMention[] = [];
  const addIntents = (pattern: RegExp, intent: IntentKind, changes: boolean) => {
    for (const { match, start, end } of scanner.find(pattern)) {
      const words = match[0];
      intents.push({ intent, changes, continuous: /^continuous/i.test(words), words, start });
      scanner.claim(start, end);
    }
  };
  addIntents(INCREMENTAL_RE, 'incremental', false);
  addIntents(FULL_RE, 'full_refresh', false);
  addIntents(CHANGES_RE, 'stream', true);
  addIntents(LIVE_RE, 'stream', false);
  intents.sort((a, b) => a.start - b.start);
  // "Stream changes" is one wish, not two: merge neighbours of the same kind.
  const merged: IntentMention[] = [];
  for (const intent of intents) {
    const previous = merged[merged.length - 1];
    const end = previous !== undefined ? previous.start + previous.words.length : 0;
    if (previous !== undefined && previous.intent === intent.intent && /^\s+$/.test(text.slice(end, intent.start))) {
      merged[merged.length - 1] = {
        intent: intent.intent,
        changes: previous.changes || intent.changes,
        continuous: previous.continuous || intent.continuous,
        words: text.slice(previous.start, intent.start + intent.words.length),
        start: previous.start,
      };
    } else {
      merged.push(intent);
    }
  }
  return merged;
}
