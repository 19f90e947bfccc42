import type { ParsedDescription } from '../description/mentions.js';
import type { Notes } from '../notes.js';
import type { DestinationHint } from '../source-manifest.js';

/** Where the rows land: the first destination location of the words, and the format they name. */
export function chooseDestination(parsed: ParsedDescription, notes: Notes): DestinationHint | undefined {
  const destinations = parsed.locations.filter((l) => l.role === 'destination');
  let destination: DestinationHint | undefined;
  const lake = destinations[0];
  if (lake !== undefined) {
    destination = { lakePath: lake.location };
    notes.match(lake.words, `destination lakePath ${lake.location}`, lake.start);
  }
  if (destinations.length > 1) {
    notes.warn(
      `used the first destination; ignored ${destinations
        .slice(1)
        .map((d) => `"${d.words}"`)
        .join(', ')}`,
    );
  }
  if (parsed.format !== undefined) {
    destination = { ...destination, format: parsed.format.format };
    notes.match(parsed.format.words, `destination format ${parsed.format.format}`, parsed.format.start);
  }
  return destination;
}
