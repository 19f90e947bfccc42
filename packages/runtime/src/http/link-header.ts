/** One link of an RFC 8288 `Link` header: its target and its relation types (lower case). */
export interface Link {
  readonly target: string;
  readonly rel: readonly string[];
}

/**
 * Parses a `Link` header (RFC 8288 §3): `<https://api/items?page=2>; rel="next", <…>; rel="last"`.
 * Commas and semicolons inside `<…>` or a quoted string belong to them; a malformed link is skipped.
 */
export function parseLinkHeader(value: string): Link[] {
  const links: Link[] = [];
  let i = 0;
  while (i < value.length) {
    const open = value.indexOf('<', i);
    if (open < 0) break;
    const close = value.indexOf('>', open);
    if (close < 0) break;
    const target = value.slice(open + 1, close).trim();
    i = close + 1;
    const rel: string[] = [];
    // Parameters up to the next comma that is not inside quotes.
    while (i < value.length && value[i] !== ',') {
      const semi = value.indexOf(';', i);
      if (semi < 0 || value.slice(i, semi).includes(',')) break;
      i = semi + 1;
      const param = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?\s*/.exec(value.slice(i));
      if (!param) break;
      i += param[0].length;
      const name = param[1]!.toLowerCase();
      const raw = param[2] ?? '';
      const unquoted = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
      if (name === 'rel' && rel.length === 0) rel.push(...unquoted.toLowerCase().split(/\s+/).filter(Boolean));
    }
    const comma = value.indexOf(',', i);
    i = comma < 0 ? value.length : comma + 1;
    links.push({ target, rel });
  }
  return links;
}

/** The `rel="next"` target of a Link header, resolved against the URL that answered. */
export function nextLink(header: string | undefined, base: URL): URL | undefined {
  if (!header) return undefined;
  const link = parseLinkHeader(header).find((l) => l.rel.includes('next'));
  if (!link) return undefined;
  try {
    return new URL(link.target, base);
  } catch {
    return undefined;
  }
}
