import type { ProviderRegistry } from '../../../registry/provider-registry.js';
import type { QuotedName } from './mentions.js';
import type { Scanner } from './scanner.js';

/** Quoted names ("orders", `Invoice__c`, “line items”) of at most three words that name no provider. */
export function readQuotedNames(scanner: Scanner, registry: ProviderRegistry): QuotedName[] {
  const quoted: QuotedName[] = [];
  const QUOTED_RE =
    /(?<=^|[\s(,:])(["'`\u201c\u2018])([^"'`\u201c\u201d\u2018\u2019\n]{1,80})(["'`\u201d\u2019])(?=$|[\s),.;:!?])/g;
  for (const { match, start, end } of scanner.find(QUOTED_RE)) {
    const name = match[2]!.trim();
    if (name === '' || registry.find(name) !== undefined || name.split(/\s+/).length > 3) continue;
    quoted.push({ name, words: match[0], start });
    scanner.claim(start, end);
  }
  return quoted;
}
