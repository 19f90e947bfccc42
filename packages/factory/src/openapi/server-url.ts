import { arr, obj, str } from './json-node.js';
import type { OpenApiDocument } from './openapi-document.js';

/** The API's base URL: Swagger 2's scheme, host and basePath, or OpenAPI 3's first server with its variables filled. */
export function serverUrl(document: OpenApiDocument): string | undefined {
  const { root: doc, swagger2, file, warnings } = document;
  let baseUrl: string | undefined;
  if (swagger2) {
    const scheme = str(arr(doc.schemes)[0]) ?? 'https';
    const host = str(doc.host);
    baseUrl = `${scheme}://${host ?? '{host}'}${str(doc.basePath) ?? ''}`.replace(/\/+$/, '');
  } else {
    const server = obj(arr(doc.servers)[0]);
    const url = str(server.url);
    if (url !== undefined) {
      const variables = obj(server.variables);
      const filled = url.replace(/\{(\w+)\}/g, (whole, name: string) => str(obj(variables[name]).default) ?? whole);
      baseUrl = filled.startsWith('/') ? `https://{host}${filled}` : filled;
      baseUrl = baseUrl.replace(/\/+$/, '');
      if (filled.startsWith('/')) warnings.push(`${file}: servers[0].url is relative (${url}); fill in {host}`);
    }
  }
  return baseUrl;
}
