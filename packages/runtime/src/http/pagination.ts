import { RuntimeError } from '../errors.js';
import type { HttpClient, HttpResponse, QueryValue } from './http-client.js';
import { valueAt } from './json-path.js';
import { nextLink } from './link-header.js';

/** How an API pages a list, declared per entity (a provider's default, or the manifest's). */
export type Pagination =
  | { readonly type: 'none' }
  /** The next page's URL in the body: `next`, `nextRecordsUrl`, `links.next`. */
  | { readonly type: 'next_url'; readonly nextPath: string }
  /** RFC 8288 `Link: <…>; rel="next"` (GitHub and many others). */
  | { readonly type: 'link_header' }
  /**
   * An opaque cursor in the body (or in a response header when `cursorHeader` is set), sent back as the
   * `cursorParam` query parameter; `hasMorePath` (`has_more`) false ends the list.
   */
  | {
      readonly type: 'cursor';
      readonly cursorParam: string;
      readonly cursorPath?: string;
      readonly cursorHeader?: string;
      readonly hasMorePath?: string;
    }
  /** offset/limit; `totalPath` (`total`, `meta.count`) ends the list when reached, else an empty page does. */
  | {
      readonly type: 'offset';
      readonly offsetParam: string;
      readonly limitParam: string;
      readonly limit: number;
      readonly totalPath?: string;
    }
  /** page numbers; `totalPagesPath` ends the list when reached, else an empty page does. */
  | {
      readonly type: 'page';
      readonly pageParam: string;
      readonly firstPage?: number;
      readonly sizeParam?: string;
      readonly size?: number;
      readonly totalPagesPath?: string;
    };

/** Where a page is read from. JSON-serialisable, so a checkpoint can hold the next page of an interrupted run. */
export interface PageRequest {
  readonly url: string;
  readonly query: Readonly<Record<string, QueryValue>>;
}

export interface Page {
  /** 1-based, counted from the request the listing started at. */
  readonly number: number;
  readonly records: readonly unknown[];
  readonly response: HttpResponse;
  /** The next page's request; undefined on the last page. */
  readonly next: PageRequest | undefined;
}

export interface PaginateOptions {
  /** Where the records sit in a page's body: `data`, `records`, `results`, or `$` for a body that is the list. */
  readonly recordsPath: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/**
 * Reads a list page by page. It stops where the API says the list ends (no next link or cursor, has_more
 * false, the total reached) or at an empty page, and fails, naming the page, when the API sends a
 * request it already answered (a cursor that loops) or a page without a records list.
 */
export async function* paginate(
  client: HttpClient,
  start: PageRequest,
  pagination: Pagination,
  options: PaginateOptions,
): AsyncGenerator<Page, void, undefined> {
  const first =
    pagination.type === 'none' || pagination.type === 'next_url' || pagination.type === 'link_header'
      ? start
      : withFirstPosition(start, pagination);
  const seen = new Set<string>([requestKey(first)]);
  let request: PageRequest | undefined = first;
  for (let number = 1; request; number++) {
    const response = await client.send({
      url: request.url,
      query: request.query,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const body = response.json();
    const records = valueAt(body, options.recordsPath);
    if (!Array.isArray(records))
      throw new RuntimeError(
        'source_protocol',
        `${where(response)} page ${number}: no list of records at "${options.recordsPath}" (found ${describe(records)})`,
        { data: { httpStatus: response.status } },
      );
    const next = nextRequest(pagination, request, response, body, records.length);
    if (next) {
      const key = requestKey(next);
      if (seen.has(key))
        throw new RuntimeError(
          'source_protocol',
          `${where(response)} page ${number}: the API sent a next page it already sent (a cursor that loops); stopped`,
        );
      seen.add(key);
    }
    yield { number, records, response, next };
    request = next;
  }
}

function withFirstPosition(start: PageRequest, pagination: Pagination): PageRequest {
  switch (pagination.type) {
    case 'offset':
      return {
        url: start.url,
        query: { [pagination.limitParam]: pagination.limit, [pagination.offsetParam]: 0, ...start.query },
      };
    case 'page':
      return {
        url: start.url,
        query: {
          ...(pagination.sizeParam && pagination.size ? { [pagination.sizeParam]: pagination.size } : {}),
          [pagination.pageParam]: pagination.firstPage ?? 1,
          ...start.query,
        },
      };
    default:
      return start;
  }
}

function nextRequest(
  pagination: Pagination,
  current: PageRequest,
  response: HttpResponse,
  body: unknown,
  count: number,
): PageRequest | undefined {
  switch (pagination.type) {
    case 'none':
      return undefined;
    case 'next_url': {
      const next = valueAt(body, pagination.nextPath);
      return typeof next === 'string' && next !== '' ? { url: new URL(next, response.url).href, query: {} } : undefined;
    }
    case 'link_header': {
      const next = nextLink(response.headers['link'], response.url);
      return next ? { url: next.href, query: {} } : undefined;
    }
    case 'cursor': {
      if (count === 0) return undefined;
      if (pagination.hasMorePath !== undefined && valueAt(body, pagination.hasMorePath) === false) return undefined;
      const cursor = pagination.cursorHeader
        ? response.headers[pagination.cursorHeader.toLowerCase()]
        : valueAt(body, pagination.cursorPath ?? pagination.cursorParam);
      if (cursor === undefined || cursor === null || cursor === '') return undefined;
      if (typeof cursor !== 'string' && typeof cursor !== 'number')
        throw new RuntimeError(
          'source_protocol',
          `${where(response)}: the cursor is ${describe(cursor)}, not a string or number`,
        );
      return { url: current.url, query: { ...current.query, [pagination.cursorParam]: String(cursor) } };
    }
    case 'offset': {
      if (count === 0) return undefined;
      const offset = Number(current.query[pagination.offsetParam] ?? 0) + count;
      const total = pagination.totalPath !== undefined ? Number(valueAt(body, pagination.totalPath)) : NaN;
      if (Number.isFinite(total) && offset >= total) return undefined;
      return { url: current.url, query: { ...current.query, [pagination.offsetParam]: offset } };
    }
    case 'page': {
      if (count === 0) return undefined;
      const page = Number(current.query[pagination.pageParam] ?? pagination.firstPage ?? 1);
      const pages = pagination.totalPagesPath !== undefined ? Number(valueAt(body, pagination.totalPagesPath)) : NaN;
      const lastIndex = Number.isFinite(pages) ? pages - 1 + (pagination.firstPage ?? 1) : Infinity;
      if (page >= lastIndex) return undefined;
      return { url: current.url, query: { ...current.query, [pagination.pageParam]: page + 1 } };
    }
  }
}

function requestKey(request: PageRequest): string {
  const url = new URL(request.url);
  for (const [name, value] of Object.entries(request.query))
    if (value !== undefined) url.searchParams.set(name, String(value));
  url.searchParams.sort();
  return url.href;
}

function where(response: HttpResponse): string {
  return `GET ${response.url.origin}${response.url.pathname}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
