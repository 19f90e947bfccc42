import { describe, expect, it } from 'vitest';
import { nextLink, parseLinkHeader } from '../../src/http/link-header.js';

describe('Link header (RFC 8288)', () => {
  it('reads GitHub-style links', () => {
    const header =
      '<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", <https://api.github.com/repositories/1300192/issues?page=4>; rel="next", <https://api.github.com/repositories/1300192/issues?page=515>; rel="last"';
    expect(parseLinkHeader(header).map((l) => l.rel[0])).toEqual(['prev', 'next', 'last']);
    expect(nextLink(header, new URL('https://api.github.com/'))?.searchParams.get('page')).toBe('4');
  });

  it('keeps commas and semicolons inside the target and quoted values', () => {
    const links = parseLinkHeader('<https://x.test/a?ids=1,2;3>; title="a, b; c"; rel="next", </b>; rel=last');
    expect(links).toEqual([
      { target: 'https://x.test/a?ids=1,2;3', rel: ['next'] },
      { target: '/b', rel: ['last'] },
    ]);
  });

  it('takes several relation types and resolves relative targets', () => {
    const next = nextLink('</items?cursor=abc>; rel="next nofollow"', new URL('https://api.test/v1/items?cursor=xyz'));
    expect(next?.href).toBe('https://api.test/items?cursor=abc');
  });

  it('finds no next where there is none', () => {
    expect(nextLink('<https://x.test/1>; rel="first"', new URL('https://x.test/'))).toBeUndefined();
    expect(nextLink(undefined, new URL('https://x.test/'))).toBeUndefined();
    expect(parseLinkHeader('garbage')).toEqual([]);
  });
});
