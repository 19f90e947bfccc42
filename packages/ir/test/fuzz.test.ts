import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { describe, expect, it } from 'vitest';
import { validateManifest, type ValidationResult } from '../src/index.js';
import { seedManifests } from './fixtures.js';

/**
 * Mutated copies of valid manifests through validateManifest: wrong types, prototype names, 1 MB
 * strings, secrets; keys removed, misspelt, added, nested deeper. Every answer must be structured, name
 * where and what, never echo a secret of the input, and come quickly.
 */

type Key = string | number;
type Doc = unknown;

const PROTOTYPE_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'prototype',
  'isPrototypeOf',
];
const MB = 1 << 20;
const HUGE_STRINGS = [
  'x'.repeat(MB),
  'eyJa-'.repeat(MB / 5),
  'a '.repeat(MB / 2),
  '://'.repeat(MB / 3),
  'Ab1/'.repeat(MB / 4),
  `${'ab.'.repeat(MB / 3)}eyJ`,
];
const LIMIT_MS = 50;

/** Every path to a value inside a document, the root excepted. */
function paths(value: Doc, prefix: Key[] = []): Key[][] {
  if (value === null || typeof value !== 'object') return prefix.length ? [prefix] : [];
  // Own keys, array indexes as numbers (no array method: a mutation may have added "constructor").
  const entries: [Key, unknown][] = Object.keys(value).map((key) => [
    Array.isArray(value) && /^\d+$/.test(key) ? Number(key) : key,
    (value as Record<string, unknown>)[key],
  ]);
  return [...(prefix.length ? [prefix] : []), ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

/** Own-key write, so "__proto__" becomes a key as a JSON parser makes it. */
function put(target: any, key: Key, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function parentOf(doc: any, path: readonly Key[]): any {
  let parent = doc;
  for (const part of path.slice(0, -1)) parent = parent?.[part];
  return parent;
}

/** A planted secret: what is put in the manifest and the part that must never come back. */
interface Secret {
  readonly value: string;
  readonly secret: string;
}

const alnum = fc.stringMatching(/^[A-Za-z0-9]{10,20}$/);
const secretArb: fc.Arbitrary<Secret> = fc.oneof(
  alnum.map((pw) => ({ value: `postgresql://app:Pw${pw}@db.internal:5432/orders`, secret: `Pw${pw}` })),
  alnum.map((pw) => ({ value: `jdbc:mysql://root:Pw${pw}@10.0.0.7/shop?ssl=true`, secret: `Pw${pw}` })),
  alnum.map((pw) => ({ value: `https://svc:Pw${pw}@api.example.com/v1/items`, secret: `Pw${pw}` })),
  alnum.map((pw) => ({ value: `mysql://db/orders?user=app&password=Pw${pw}`, secret: `Pw${pw}` })),
  alnum.map((pw) => ({ value: `host=db dbname=orders user=app password=Pw${pw}`, secret: `Pw${pw}` })),
  alnum.map((pw) => ({ value: `read postgresql://app:Pw${pw}@db/orders first`, secret: `Pw${pw}` })),
  alnum.map((pw) => ({ value: `${'y'.repeat(80)} postgres://u:Pw${pw}@h/d`, secret: `Pw${pw}` })),
  fc.stringMatching(/^[A-Z2-7]{16}$/).map((id) => ({ value: `AKIA${id}`, secret: `AKIA${id}` })),
  fc.stringMatching(/^[A-Z2-7]{16}$/).map((id) => ({ value: `key AKIA${id} here`, secret: `AKIA${id}` })),
  // An AWS secret access key: 30 random bytes in base64 (40 characters). Random, as a real one is: not
  // biased towards small bytes, nor shrunk towards zeros (which would no longer look like a key).
  fc
    .noBias(fc.noShrink(fc.uint8Array({ minLength: 30, maxLength: 30 })))
    .map((bytes) => Buffer.from(bytes).toString('base64'))
    .filter((key) => /[a-z]/.test(key) && /[A-Z]/.test(key) && /\d/.test(key))
    .map((key) => ({ value: key, secret: key })),
  fc
    .stringMatching(/^[A-Za-z0-9]{36}$/)
    .map((s) => `ghp_${s}`)
    .map((token) => ({ value: token, secret: token })),
);

/** A value to plant and the secrets it carries; printed short (a counterexample may hold 1 MB strings). */
interface Replacement {
  readonly value: unknown;
  readonly secrets: readonly Secret[];
}
function replacement(value: unknown, secrets: readonly Secret[] = []): Replacement {
  const label = JSON.stringify(value, (_, v: unknown) =>
    typeof v === 'string' && v.length > 100 ? `${v.slice(0, 40)}...(${v.length} characters)` : v,
  );
  return { value, secrets, [fc.toStringMethod]: () => label } as Replacement;
}
const plain = (value: unknown): Replacement => replacement(value);

const replacementArb: fc.Arbitrary<Replacement> = fc.oneof(
  fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({})).map(plain),
  fc.constantFrom(...PROTOTYPE_NAMES).map(plain),
  fc.constantFrom(...HUGE_STRINGS).map(plain),
  fc
    .constantFrom('', ' ', '${X}', 'cronn', 'parket', 'merge', 'cdc', 'id', 'dt', '0 0 * * *', 'x'.repeat(300))
    .map(plain),
  fc.string({ maxLength: 40 }).map(plain),
  fc.jsonValue({ maxDepth: 3 }).map(plain),
  secretArb.map((s) => replacement(s.value, [s])),
  secretArb.map((s) => replacement([s.value], [s])),
  secretArb.map((s) => replacement({ nested: { deeper: [s.value] } }, [s])),
  fc.tuple(secretArb, fc.constantFrom(...HUGE_STRINGS)).map(([s, huge]) => replacement(`${huge} ${s.value}`, [s])),
);

const keyArb: fc.Arbitrary<Replacement> = fc.oneof(
  fc.constantFrom(...PROTOTYPE_NAMES).map(plain),
  fc.string({ maxLength: 20 }).map(plain),
  secretArb.map((s) => replacement(s.value, [s])),
);

type Mutation =
  | { kind: 'set'; pick: number; with: Replacement }
  | { kind: 'delete'; pick: number }
  | { kind: 'rename'; pick: number; to: Replacement; misspell: number }
  | { kind: 'add'; pick: number; key: Replacement; with: Replacement }
  | { kind: 'nest'; pick: number; depth: number; asArray: boolean };

const pick = fc.nat();
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), pick, with: replacementArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('rename' as const), pick, to: keyArb, misspell: fc.nat(3) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), pick, key: keyArb, with: replacementArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('nest' as const),
      pick,
      depth: fc.integer({ min: 1, max: 30 }),
      asArray: fc.boolean(),
    }),
  },
);

/** A near miss of a key: a letter dropped, doubled or swapped, or the case changed. */
function misspell(key: string, how: number): string {
  if (key.length < 2) return `${key}x`;
  const at = key.length >> 1;
  switch (how) {
    case 0:
      return key.slice(0, at) + key.slice(at + 1);
    case 1:
      return key.slice(0, at) + key[at] + key.slice(at);
    case 2:
      return key.slice(0, at - 1) + key[at] + key[at - 1] + key.slice(at + 1);
    default:
      return key.toUpperCase();
  }
}

/** Applies a mutation in place; returns the secrets it planted. */
function apply(doc: any, mutation: Mutation): readonly Secret[] {
  const all = paths(doc);
  if (all.length === 0) return [];
  const path = all[mutation.pick % all.length]!;
  const parent = parentOf(doc, path);
  const last = path[path.length - 1]!;
  if (parent === null || typeof parent !== 'object') return [];
  switch (mutation.kind) {
    case 'set':
      put(parent, last, mutation.with.value);
      return mutation.with.secrets;
    case 'delete':
      if (Array.isArray(parent) && typeof last === 'number') {
        // By hand: splice would consult an own "constructor" an earlier mutation may have added.
        for (let i = last; i < parent.length - 1; i++) parent[i] = parent[i + 1];
        parent.length -= 1;
      } else delete parent[last];
      return [];
    case 'rename': {
      if (Array.isArray(parent)) return [];
      const value = parent[last];
      delete parent[last];
      const useMisspelling = mutation.to.secrets.length === 0 && mutation.misspell < 2;
      put(parent, useMisspelling ? misspell(String(last), mutation.misspell) : String(mutation.to.value), value);
      return useMisspelling ? [] : mutation.to.secrets;
    }
    case 'add': {
      const target = parent[last];
      if (target === null || typeof target !== 'object' || Array.isArray(target)) {
        put(parent, String(mutation.key.value), mutation.with.value);
      } else {
        put(target, String(mutation.key.value), mutation.with.value);
      }
      return [...mutation.key.secrets, ...mutation.with.secrets];
    }
    case 'nest': {
      let value = parent[last];
      for (let i = 0; i < mutation.depth; i++) value = mutation.asArray ? [value] : { [String(last)]: value };
      put(parent, last, value);
      return [];
    }
  }
}

interface Outcome {
  readonly result: ValidationResult;
  /** Processor time the call took, in milliseconds. */
  readonly ms: number;
  readonly wallMs: number;
}

/**
 * One validation, timed by the processor time it takes: on a machine shared with other work the wall
 * clock measures the other work too (the process can wait for a core far longer than it computes).
 */
function timed(doc: Doc): Outcome {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = validateManifest(doc);
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { result, ms: (used.user + used.system) / 1000, wallMs };
}

/**
 * The time of one validation. A call over the limit is timed again (a collector pass can land in any
 * call); a slow input stays slow every time.
 */
function timeOf(doc: Doc, first: Outcome): number {
  if (first.ms < LIMIT_MS) return first.ms;
  return Math.min(first.ms, ...[0, 1, 2].map(() => timed(doc).ms));
}

/** A result's JSON with every long string cut, for a readable failure. */
function shorten(text: string): string {
  return text.replace(/([^"\\]{60})[^"\\]{40,}/g, '$1...').slice(0, 3000);
}

/**
 * What is wrong with an answer, if anything: one plain pass (an expect() per problem would cost more than
 * the validation), asserted once.
 */
function violations(secrets: readonly Secret[], result: ValidationResult): string[] {
  const wrong: string[] = [];
  if (typeof result.ok !== 'boolean' || !Array.isArray(result.problems)) return ['not a { ok, problems } result'];
  if (!result.ok && !result.problems.some((p) => p.severity === 'error')) wrong.push('invalid without an error');
  for (const problem of result.problems) {
    if (!Array.isArray(problem.path) || problem.path.length === 0)
      wrong.push(`no path: ${shorten(JSON.stringify(problem))}`);
    if (typeof problem.message !== 'string' || problem.message.trim() === '')
      wrong.push(`no message: ${shorten(JSON.stringify(problem))}`);
    if (typeof problem.code !== 'string' || problem.code === '')
      wrong.push(`no code: ${shorten(JSON.stringify(problem))}`);
  }
  const text = JSON.stringify(result);
  for (const { secret } of secrets) if (text.includes(secret)) wrong.push(`secret ${secret} in ${shorten(text)}`);
  return wrong;
}

function checkAnswer(secrets: readonly Secret[], outcome: Outcome): void {
  const wrong = violations(secrets, outcome.result);
  if (wrong.length > 0) expect(wrong).toEqual([]);
}

describe('validateManifest on mutated manifests', () => {
  const seeds = seedManifests();

  it('starts from valid seeds', () => {
    for (const seed of seeds.slice(0, 7)) expect(validateManifest(seed).problems).toEqual([]);
  });

  it('answers every mutation quickly, structured, and without echoing a secret', () => {
    // Warm up the regular expressions and the schema once, so the first measured call is not the JIT's.
    for (const seed of seeds) validateManifest(seed);
    let slowest = 0;
    fc.assert(
      fc.property(
        fc.nat(seeds.length - 1),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        (seed, mutations) => {
          const doc = structuredClone(seeds[seed]);
          const secrets = mutations.flatMap((m) => apply(doc, m));
          const outcome = timed(doc);
          checkAnswer(secrets, outcome);
          const ms = timeOf(doc, outcome);
          slowest = Math.max(slowest, ms);
          if (ms >= LIMIT_MS) expect(ms, 'milliseconds for one validation').toBeLessThan(LIMIT_MS);
        },
      ),
      { numRuns: 2500 },
    );
    expect(slowest).toBeLessThan(LIMIT_MS);
  }, 60_000);

  it('answers the hostile cases of every seed at every path', () => {
    const values: Replacement[] = [
      ...PROTOTYPE_NAMES.map(plain),
      plain(HUGE_STRINGS[0]),
      replacement('postgresql://app:Pwfixed1234secret@db/orders', [{ value: '', secret: 'Pwfixed1234secret' }]),
      replacement('AKIAIOSFODNN7EXAMPLE', [{ value: '', secret: 'AKIAIOSFODNN7EXAMPLE' }]),
    ];
    let slowest = 0;
    for (const seed of seeds.slice(0, 2)) {
      for (const path of paths(seed)) {
        for (const replacement of values) {
          const doc = structuredClone(seed);
          put(parentOf(doc, path), path[path.length - 1]!, replacement.value);
          const outcome = timed(doc);
          checkAnswer(replacement.secrets, outcome);
          slowest = Math.max(slowest, timeOf(doc, outcome));
        }
        for (const key of [...PROTOTYPE_NAMES, 'postgresql://app:Pwfixed1234secret@db/orders']) {
          const doc = structuredClone(seed);
          const parent = parentOf(doc, path);
          const last = path[path.length - 1]!;
          if (Array.isArray(parent)) continue;
          const value = parent[last];
          delete parent[last];
          put(parent, key, value);
          const outcome = timed(doc);
          checkAnswer([{ value: '', secret: 'Pwfixed1234secret' }], outcome);
          slowest = Math.max(slowest, timeOf(doc, outcome));
        }
      }
    }
    expect(slowest).toBeLessThan(LIMIT_MS);
  }, 60_000);
});
