import type { LocationMention } from './mentions.js';
import { trimTrailingPunctuation, type Scanner } from './scanner.js';

const PATH_RE = /(?<=^|[\s(,=])(?:\.{1,2}|~)?\/[\w*-][\w.*\-/]*/g;
const LOCATION_LEAD =
  /(?:^|\s)(to|into|onto|towards|from|of|under|within|in|at|->|→)\s+((?:(?:the|a|an|our|my|local|data|lake|landing|raw|folder|directory|dir|bucket|prefix|path|location|zone)\s+){0,4})$/i;
const LANDING_VERB =
  /\b(?:land|lands|write|writes|store|stores|save|saves|put|puts|dump|dumps|persist|deliver|keep|output|place)\b/i;
const READING_VERB = /\b(?:read|load|ingest|import|pull|scan|watch|copy|fetch|consume|crawl)\s+(?:\S+\s+){0,3}$/i;

/** A location as read, before the others say whether an undecided one is the source. */
export type PlacedLocation = LocationMention & { decided: boolean };

/** Whether a location at `start` is read from or written to, from the words before it. */
export function classifyLocation(
  scanner: Scanner,
  start: number,
): { role: 'source' | 'destination' | undefined; leadStart: number } {
  const before = scanner.text.slice(0, start);
  const lead = LOCATION_LEAD.exec(before);
  if (!lead) return { role: READING_VERB.test(before) ? 'source' : undefined, leadStart: start };
  const leadStart = lead.index + (lead[0].length - lead[0].trimStart().length);
  const word = lead[1]!.toLowerCase();
  if (['to', 'into', 'onto', 'towards', '->', '→'].includes(word)) return { role: 'destination', leadStart };
  if (['from', 'of', 'under', 'within'].includes(word)) return { role: 'source', leadStart };
  // "in" / "at": "land it in s3://…" and "to the lake at s3://…" are destinations, "files in s3://…" a source.
  const head = before.slice(0, lead.index);
  const towards = /\b(?:to|into|onto)\s+(?:\S+\s+){0,3}\S*$/i.test(head) && !/\bfrom\s+(?:\S+\s+){0,3}\S*$/i.test(head);
  return { role: LANDING_VERB.test(head) || towards ? 'destination' : 'source', leadStart };
}

/** Local paths with a preposition before them ("to ./lake", "from /data/in"), or starting with ./, ../ or ~/. */
export function readPaths(scanner: Scanner, locations: PlacedLocation[]): void {
  const text = scanner.text;
  for (const { match, start } of scanner.find(PATH_RE)) {
    const path = trimTrailingPunctuation(match[0]);
    const { role, leadStart } = classifyLocation(scanner, start);
    // A bare "/v1/customers" is more likely an API path than a folder: only paths with a preposition count.
    if (role === undefined && !/^(?:\.{1,2}|~)\//.test(path)) continue;
    locations.push({
      location: path,
      role: role ?? 'destination',
      decided: role !== undefined,
      words: text.slice(leadStart, start + path.length).trim(),
      start: leadStart,
    });
    scanner.claim(leadStart, start + path.length);
  }
}

/** Every location with its role: an undecided one is the source when another one is the destination. */
export function settleLocations(locations: readonly PlacedLocation[]): LocationMention[] {
  const hasDestination = locations.some((l) => l.decided && l.role === 'destination');
  return locations.map(({ decided, ...l }) => (!decided && hasDestination ? { ...l, role: 'source' } : l));
}
