/** Lower case without `_ . - $`: how registry keys and entity names are compared. */
export function normalise(text: string): string {
  return text.toLowerCase().replace(/[\s_.\-$]+/g, '');
}
