import { Document } from 'yaml';

/**
 * YAML documents from plain objects (the yaml library quotes every value that needs it), a header
 * comment before the first one.
 */
export function yamlDocuments(header: readonly string[], objects: readonly object[]): string {
  return objects
    .map((object, index) => {
      const document = new Document(object);
      if (index === 0 && header.length > 0) {
        document.commentBefore = header.map((line) => ` ${line.replace(/[\r\n\u2028\u2029]+/g, ' ')}`).join('\n');
      }
      return document.toString({ lineWidth: 0 });
    })
    .join('---\n');
}
