import type { AuthMethod } from '@connector-factory/ir';
import type { AuthMention } from './mentions.js';
import type { Scanner } from './scanner.js';

const ARN_RE = /\barn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+/gi;

const AUTH_PATTERNS: ReadonlyArray<readonly [RegExp, AuthMethod | 'token']> = [
  [/\b(oauth\s*2(?:\.0)?|oauth|client\s+credentials)\b/gi, 'oauth2'],
  [/\b(api[\s-]?keys?|x-api-key)\b/gi, 'api_key'],
  [/\b(bearer(?:\s+tokens?)?|(?:personal\s+)?access\s+tokens?|private\s+app\s+tokens?|api\s+tokens?|pat)\b/gi, 'token'],
  [/\b(basic\s+auth(?:entication)?|user(?:name)?\s+and\s+password|username\/password)\b/gi, 'basic'],
  [/\b(iam(?:\s+role)?|assumed?\s+role|instance\s+profile|role\s+arn)\b/gi, 'iam'],
  [
    /\b(no\s+auth(?:entication)?|without\s+auth(?:entication)?|unauthenticated|anonymous(?:ly)?|public\s+api)\b/gi,
    'none',
  ],
];

/** IAM role ARNs, read first: their parts ("aws", "s3-reader") must not read as providers. The first is the auth. */
export function readRoleArns(scanner: Scanner): AuthMention | undefined {
  let auth: AuthMention | undefined;
  for (const { match, start, end } of scanner.find(ARN_RE)) {
    auth ??= { method: 'iam', roleArn: match[0], words: match[0], start };
    scanner.claim(start, end);
  }
  return auth;
}

/** Auth words ("api key", "oauth", "no auth"): the first one wins, unless a role ARN came first. */
export function readAuth(scanner: Scanner, found: AuthMention | undefined): AuthMention | undefined {
  let auth = found;
  for (const [pattern, method] of AUTH_PATTERNS) {
    for (const { match, start, end } of scanner.find(pattern)) {
      auth ??= { method, words: match[0], start };
      scanner.claim(start, end);
    }
  }
  return auth;
}
