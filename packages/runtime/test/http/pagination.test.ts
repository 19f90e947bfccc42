import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import { HttpClient } from '../../src/http/http-client.js';
import { paginate, type Page, type Pagination } from '../../src/http/pagination.js';
import { localServer, sendJson } from './local-server.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const ITEMS = Array.from({ length: 23 }, (_, i) => ({ id: i + 1 }));

/** An API over ITEMS that pages the way `style` says, 5 records a page (or the limit asked for). */
async function api(style: string) {
  const server = await localServer((req, res) => {
    const q = req.url.searchParams;
    const base = `http://127.0.0.1:${req.headers.host!.split(':')[1]}`;
    switch (style) {
      case 'next_url': {
        const from = Number(q.get('from') ?? 0);
        const next = from + 5 < ITEMS.length ? `/items?from=${from + 5}` : null;
        return sendJson(res, 200, { records: ITEMS.slice(from, from + 5), nextRecordsUrl: next, done: next === null });
      }
      case 'link': {
        const page = Number(q.get('page') ?? 1);
        const links = [`<${base}/items?page=1>; rel="first"`];
        if (page * 5 < ITEMS.length) links.push(`<${base}/items?page=${page + 1}&per_page=5>; rel="next"`);
        return sendJson(res, 200, ITEMS.slice((page - 1) * 5, page * 5), { link: links.join(', ') });
      }
      case 'cursor': {
        const after = Number(q.get('starting_after') ?? 0);
        const data = ITEMS.filter((i) => i.id > after).slice(0, 5);
        return sendJson(res, 200, {
          data,
          has_more: data.at(-1)!.id < ITEMS.length,
          next_cursor: String(data.at(-1)?.id ?? ''),
        });
      }
      case 'offset': {
        const offset = Number(q.get('offset'));
        const limit = Number(q.get('limit'));
        return sendJson(res, 200, { results: ITEMS.slice(offset, offset + limit), total: ITEMS.length });
      }
      case 'offset-no-total': {
        const offset = Number(q.get('offset'));
        // The server caps the page at 4 whatever the limit asked: a short page is not the end.
        return sendJson(res, 200, { results: ITEMS.slice(offset, offset + Math.min(4, Number(q.get('limit')))) });
      }
      case 'page': {
        const page = Number(q.get('page'));
        const size = Number(q.get('size'));
        return sendJson(res, 200, {
          items: ITEMS.slice(page * size, (page + 1) * size),
          totalPages: Math.ceil(ITEMS.length / size),
        });
      }
      case 'loop':
        return sendJson(res, 200, { data: [ITEMS[0]], next_cursor: 'same', has_more: true });
      case 'no-records':
        return sendJson(res, 200, { message: 'hello' });
    }
  });
  const client = new HttpClient({ baseUrl: server.url, retry: { maxAttempts: 1 } });
  closers.push(server.close, () => client.close());
  return { server, client };
}

async function readAll(style: string, pagination: Pagination, recordsPath: string, query = {}): Promise<Page[]> {
  const { client, server } = await api(style);
  const pages: Page[] = [];
  for await (const page of paginate(client, { url: `${server.url}/items`, query }, pagination, { recordsPath }))
    pages.push(page);
  return pages;
}

const ids = (pages: Page[]) => pages.flatMap((p) => p.records.map((r) => (r as { id: number }).id));

describe('paginate', () => {
  it('follows a next URL in the body (Salesforce nextRecordsUrl)', async () => {
    const pages = await readAll('next_url', { type: 'next_url', nextPath: 'nextRecordsUrl' }, 'records');
    expect(ids(pages)).toEqual(ITEMS.map((i) => i.id));
    expect(pages).toHaveLength(5);
    expect(pages.at(-1)!.next).toBeUndefined();
  });

  it('follows an RFC 8288 Link header', async () => {
    const pages = await readAll('link', { type: 'link_header' }, '$');
    expect(ids(pages)).toEqual(ITEMS.map((i) => i.id));
  });

  it('sends a body cursor back until has_more is false', async () => {
    const pages = await readAll(
      'cursor',
      { type: 'cursor', cursorParam: 'starting_after', cursorPath: 'next_cursor', hasMorePath: 'has_more' },
      'data',
    );
    expect(ids(pages)).toEqual(ITEMS.map((i) => i.id));
    expect(pages[1]!.response.url.searchParams.get('starting_after')).toBe('5');
  });

  it('pages by offset and limit until the total', async () => {
    const pages = await readAll(
      'offset',
      { type: 'offset', offsetParam: 'offset', limitParam: 'limit', limit: 10, totalPath: 'total' },
      'results',
    );
    expect(ids(pages)).toEqual(ITEMS.map((i) => i.id));
    expect(pages).toHaveLength(3);
  });

  it('does not take a short page for the end when the API caps the limit (no total: an empty page ends it)', async () => {
    const pages = await readAll(
      'offset-no-total',
      { type: 'offset', offsetParam: 'offset', limitParam: 'limit', limit: 10 },
      'results',
    );
    expect(ids(pages)).toEqual(ITEMS.map((i) => i.id));
    expect(pages.map((p) => p.records.length)).toEqual([4, 4, 4, 4, 4, 3, 0]);
  });

  it('pages by number until the total pages', async () => {
    const pages = await readAll(
      'page',
      { type: 'page', pageParam: 'page', firstPage: 0, sizeParam: 'size', size: 7, totalPagesPath: 'totalPages' },
      'items',
    );
    expect(ids(pages)).toEqual(ITEMS.map((i) => i.id));
    expect(pages).toHaveLength(4);
  });

  it('keeps the caller query on every page', async () => {
    const pages = await readAll(
      'offset',
      { type: 'offset', offsetParam: 'offset', limitParam: 'limit', limit: 10, totalPath: 'total' },
      'results',
      {
        updated_since: '2026-01-01',
      },
    );
    expect(pages.every((p) => p.response.url.searchParams.get('updated_since') === '2026-01-01')).toBe(true);
  });

  it('gives each page the next request, which resumes the listing', async () => {
    const { client, server } = await api('cursor');
    const pagination: Pagination = {
      type: 'cursor',
      cursorParam: 'starting_after',
      cursorPath: 'next_cursor',
      hasMorePath: 'has_more',
    };
    const first: Page[] = [];
    for await (const page of paginate(client, { url: `${server.url}/items`, query: {} }, pagination, {
      recordsPath: 'data',
    })) {
      first.push(page);
      if (first.length === 2) break;
    }
    const resume = JSON.parse(JSON.stringify(first[1]!.next));
    const rest: Page[] = [];
    for await (const page of paginate(client, resume, pagination, { recordsPath: 'data' })) rest.push(page);
    expect([...ids(first), ...ids(rest)]).toEqual(ITEMS.map((i) => i.id));
  });

  it('stops an API whose cursor loops, naming the page', async () => {
    const error = await readAll(
      'loop',
      { type: 'cursor', cursorParam: 'after', cursorPath: 'next_cursor', hasMorePath: 'has_more' },
      'data',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).message).toMatch(/page 2: the API sent a next page it already sent/);
  });

  it('fails a page without a records list, naming the path', async () => {
    const error = (await readAll('no-records', { type: 'none' }, 'data').catch((e: unknown) => e)) as RuntimeError;
    expect(error.code).toBe('source_protocol');
    expect(error.message).toMatch(/page 1: no list of records at "data" \(found nothing\)/);
  });
});
