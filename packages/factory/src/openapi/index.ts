export { collections, type OpenApiCollection } from './collections.js';
export { loadOpenApiDocument, type OpenApiDocument } from './openapi-document.js';
export { readOpenApi, type OpenApiSummary } from './read-openapi.js';
export { documentAuth, type DocumentAuth } from './security-scheme.js';
export { serverUrl } from './server-url.js';
