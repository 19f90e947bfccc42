import { isIP } from 'node:net';
import type { FieldType } from '@connector-factory/ir';

/**
 * PII detection for the Schema Agent, from two kinds of evidence:
 *
 * 1. The column name, split into lower-case words (`customerEmail`, `E-Mail`, `IPAddress` →
 *    `customer email`, `e mail`, `ip address`): email, phone/mobile, ssn/national_id/passport/tax_id,
 *    card_number/cc_number/pan, iban/bank_account, ip/ip_address, first_name/last_name/full_name/…,
 *    address/street/city/zip/postal_code, dob/birth_date. A name is evidence only for a type that can
 *    hold the value (no boolean `has_phone`, no datetime `email_verified_at`; birth dates must be
 *    dates or strings), and not for bookkeeping columns (`email_count`, `phone_verified`, `address_id`).
 * 2. Sampled values: at least `threshold` (default 60%) of at least `minSamples` (default 5) non-empty
 *    samples look like emails, phone numbers (E.164 `+4930…`, or grouped national numbers such as
 *    `(555) 010-0199`), US SSNs (`123-45-6789`), card numbers (13–19 digits passing the Luhn check),
 *    IBANs (mod-97 check), IPv4/IPv6 addresses, street addresses (`123 Main St`, `PO Box 12`) or
 *    person names.
 *
 * The bare column `name` is the hard case: a product's name is not personal data. It counts as PII by
 * name only in a person-like table (customers, users, employees, contacts, …), and otherwise only when
 * its values look like person names: two to four capitalised words whose first is a common given name
 * (so "Blue Widget" and "Acme Corp" are not names, "Maria Garcia" is). Value evidence alone can flag
 * any column (a `contact` column full of emails), so a column can be PII without a telling name.
 */

export type PiiKind =
  | 'email'
  | 'phone'
  | 'national_id'
  | 'card_number'
  | 'bank_account'
  | 'ip_address'
  | 'person_name'
  | 'address'
  | 'birth_date';

export interface PiiColumn {
  /** The entity (table) name: context for the ambiguous `name` column. */
  readonly entity: string;
  readonly field: string;
  readonly type: FieldType;
  /** Sampled values; null, undefined, empty strings and binary values are ignored. */
  readonly values?: readonly unknown[];
}

export interface PiiDetectorOptions {
  /** Share of non-empty samples that must match a value pattern (default 0.6). */
  readonly threshold?: number;
  /** Fewer non-empty samples than this are no value evidence (default 5). */
  readonly minSamples?: number;
}

export interface PiiVerdict {
  readonly pii: boolean;
  readonly kinds: PiiKind[];
  /** e.g. `name matches email`, `87% of 200 samples look like emails`. */
  readonly reasons: string[];
}

export const DEFAULT_PII_THRESHOLD = 0.6;
export const DEFAULT_PII_MIN_SAMPLES = 5;

/** Splits an identifier into lower-case words: `customerEmail` → [customer, email], `IPAddress` → [ip, address]. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([\p{Ll}\d])(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu}+)(\p{Lu}\p{Ll})/gu, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '');
}

/** Whether `words` contains `sequence` as consecutive words. */
function hasSequence(words: readonly string[], sequence: readonly string[]): boolean {
  for (let i = 0; i + sequence.length <= words.length; i++) {
    if (sequence.every((word, j) => words[i + j] === word)) return true;
  }
  return false;
}

function hasAny(words: readonly string[], candidates: readonly string[]): boolean {
  return words.some((word) => candidates.includes(word));
}

function hasAnySequence(words: readonly string[], sequences: readonly (readonly string[])[]): boolean {
  return sequences.some((sequence) => hasSequence(words, sequence));
}

/** Last words that make a column data *about* the PII rather than the PII itself. */
const BOOKKEEPING_SUFFIXES = [
  'count',
  'verified',
  'validated',
  'confirmed',
  'enabled',
  'valid',
  'type',
  'kind',
  'status',
  'flag',
  'format',
  'template',
  'length',
  'opt',
  'optin',
  'opted',
  'consent',
  'preference',
  'preferences',
  'provider',
  'id',
  'ids',
  'uuid',
  'key',
];

/** Tables whose rows are people: there a bare `name` is a person's name. */
const PERSON_TABLE_WORDS = [
  'customer',
  'user',
  'person',
  'people',
  'employee',
  'contact',
  'member',
  'patient',
  'client',
  'student',
  'author',
  'staff',
  'driver',
  'passenger',
  'guest',
  'subscriber',
  'lead',
  'applicant',
  'candidate',
  'cardholder',
  'beneficiary',
  'recipient',
  'teacher',
  'buyer',
  'shopper',
  'traveler',
  'traveller',
  'volunteer',
  'worker',
  'account holder',
];

/** Words before `name` that make it a person's name (`customer_name`, `holder_name`), unlike `product_name`. */
const PERSON_NAME_QUALIFIERS = [
  'first',
  'last',
  'full',
  'given',
  'family',
  'middle',
  'maiden',
  'legal',
  'birth',
  'sur',
  'customer',
  'contact',
  'client',
  'employee',
  'person',
  'patient',
  'owner',
  'holder',
  'cardholder',
  'recipient',
  'sender',
  'billing',
  'shipping',
  'guardian',
  'spouse',
  'member',
  'student',
];

/** English plurals to singular, enough for table names (`people` stays; `addresses` → `address`). */
function singular(word: string): string {
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/(ss|sh|ch|x)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss') && word.length > 3) return word.slice(0, -1);
  return word;
}

export function isPersonTable(entity: string): boolean {
  const words = nameWords(entity).map(singular);
  return PERSON_TABLE_WORDS.some((candidate) => hasSequence(words, candidate.split(' ')));
}

interface NameMatch {
  readonly kind: PiiKind;
  readonly reason: string;
}

const TEXT_OR_NUMBER: readonly FieldType[] = ['string', 'number'];

/** Name evidence for one column. */
export function piiByName(column: Pick<PiiColumn, 'entity' | 'field' | 'type'>): NameMatch[] {
  const words = nameWords(column.field);
  const out: NameMatch[] = [];
  const add = (kind: PiiKind, reason = `name matches ${kind.replace('_', ' ')}`) => out.push({ kind, reason });
  const last = words[words.length - 1] ?? '';

  if (column.type === 'date' || column.type === 'datetime' || column.type === 'string') {
    if (
      hasAny(words, ['dob', 'birthdate', 'birthday', 'dateofbirth', 'birth', 'born']) &&
      !BOOKKEEPING_SUFFIXES.includes(last)
    ) {
      add('birth_date');
    }
  }
  if (!TEXT_OR_NUMBER.includes(column.type)) return out;

  // National identifiers may end in "id" themselves (national_id, tax_id): that suffix is no bookkeeping here.
  if (
    (last === 'id' || !BOOKKEEPING_SUFFIXES.includes(last)) &&
    (hasAny(words, ['ssn', 'passport', 'nino', 'taxpayer', 'personnummer']) ||
      hasAnySequence(words, [
        ['social', 'security'],
        ['national', 'id'],
        ['national', 'identifier'],
        ['national', 'identity'],
        ['tax', 'id'],
        ['tin'],
        ['driver', 'license'],
        ['drivers', 'license'],
        ['driving', 'licence'],
        ['driver', 'licence'],
      ]))
  ) {
    add('national_id');
  }
  if (BOOKKEEPING_SUFFIXES.includes(last)) return out;

  const isEmail = hasAny(words, ['email', 'emails', 'emailaddress']) || hasSequence(words, ['e', 'mail']);
  if (isEmail) add('email');
  if (hasAny(words, ['phone', 'phones', 'mobile', 'cellphone', 'telephone', 'tel', 'fax', 'msisdn', 'phonenumber'])) {
    add('phone');
  } else if (words.includes('cell') && !hasAny(words, ['spreadsheet', 'grid'])) {
    add('phone');
  }
  if (
    hasAny(words, ['pan', 'ccnum', 'ccnumber', 'cardnumber', 'creditcard', 'debitcard']) ||
    hasAnySequence(words, [
      ['card', 'number'],
      ['card', 'no'],
      ['card', 'num'],
      ['cc', 'number'],
      ['cc', 'num'],
      ['cc', 'no'],
      ['credit', 'card'],
      ['debit', 'card'],
    ])
  ) {
    add('card_number');
  }
  if (
    hasAny(words, ['iban']) ||
    hasAnySequence(words, [
      ['bank', 'account'],
      ['routing', 'number'],
    ])
  ) {
    add('bank_account');
  }
  const isIp = hasAny(words, ['ip', 'ipv4', 'ipv6', 'ipaddr', 'ipaddress']) || hasSequence(words, ['remote', 'addr']);
  if (isIp) add('ip_address');

  if (column.type === 'string') {
    const personName =
      hasAny(words, ['firstname', 'lastname', 'fullname', 'surname', 'forename', 'givenname', 'familyname']) ||
      ((last === 'name' || last === 'names') &&
        words.length > 1 &&
        PERSON_NAME_QUALIFIERS.includes(words[words.length - 2] ?? ''));
    if (personName) add('person_name');
    else if (words.length === 1 && last === 'name' && isPersonTable(column.entity)) {
      add('person_name', `name "${column.field}" in person-like table "${column.entity}"`);
    }
  }

  // "address" is an address unless it is another kind's address (ip_address, email_address, mac_address).
  const otherAddress = isIp || isEmail || hasAny(words, ['mac', 'web', 'url', 'host', 'server', 'wallet', 'contract']);
  if (
    (!otherAddress && hasAny(words, ['address', 'addresses', 'addr', 'address1', 'address2', 'street'])) ||
    hasAny(words, ['city', 'zip', 'zipcode', 'postcode', 'postalcode']) ||
    hasAnySequence(words, [
      ['postal', 'code'],
      ['post', 'code'],
      ['street', 'address'],
    ])
  ) {
    add('address');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Value patterns

/** The Luhn (mod 10) check digit test used by payment card numbers; `digits` holds digits only. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let digit = digits.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/** 13–19 digits (spaces or dashes allowed between groups) passing the Luhn check, not one repeated digit. */
export function looksLikeCardNumber(value: string): boolean {
  const text = value.trim();
  if (!/^\d(?:[\d -]*\d)?$/.test(text) || /[ -]{2}/.test(text)) return false;
  const digits = text.replace(/[ -]/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  if (/^(\d)\1+$/.test(digits)) return false;
  return luhnValid(digits);
}

const EMAIL =
  /^[\p{L}\p{N}.!#$%&'*+/=?^_`{|}~-]+@[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?)*\.\p{L}{2,}$/u;

export function looksLikeEmail(value: string): boolean {
  const text = value.trim();
  return text.length <= 254 && EMAIL.test(text) && !text.includes('..');
}

/**
 * E.164 (`+` then 8–15 digits, separators allowed) or a grouped national number: groups of digits
 * separated by spaces, dots, dashes or parentheses, 10–15 digits in all, or the 7-digit `555-0199`.
 * Bare digit strings are not phones (they are as likely ids), nor are dates or SSNs (8 and 9 digits).
 */
export function looksLikePhone(value: string): boolean {
  const text = value
    .trim()
    .replace(/\s*(?:x|ext\.?|extension)\s*\d{1,6}$/i, '')
    .trim();
  if (!/^\+?[\d\s().-]+$/.test(text) || !/\d$/.test(text)) return false;
  const digits = text.replace(/\D/g, '');
  if (text.startsWith('+')) return /^[1-9]/.test(digits) && digits.length >= 8 && digits.length <= 15;
  const groups = text.split(/[\s().-]+/).filter((group) => group !== '');
  if (groups.length < 2) return false;
  if (/^\d{3}[-.\s]\d{4}$/.test(text)) return true;
  if (groups.some((group) => group.length < 2)) return false;
  return digits.length >= 10 && digits.length <= 15;
}

/** A US Social Security number as written, `AAA-GG-SSSS`, without the never-issued areas and groups. */
export function looksLikeSsn(value: string): boolean {
  return /^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$/.test(value.trim());
}

/** An IPv4 or IPv6 address, optionally with a /prefix (PostgreSQL inet) or a %zone. */
export function looksLikeIpAddress(value: string): boolean {
  const text = value
    .trim()
    .replace(/\/\d{1,3}$/, '')
    .replace(/%[\w.]+$/, '');
  return isIP(text) !== 0;
}

/** An IBAN: country code, check digits, up to 30 letters/digits, passing the ISO 7064 mod-97 check. */
export function looksLikeIban(value: string): boolean {
  const text = value.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(text)) return false;
  const rearranged = text.slice(4) + text.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const code = char >= 'A' ? String(char.charCodeAt(0) - 55) : char;
    for (const digit of code) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

const STREET_SUFFIXES =
  'st|street|ave|avenue|rd|road|blvd|boulevard|ln|lane|dr|drive|ct|court|way|pl|place|ter|terrace|pkwy|parkway|hwy|highway|cir|circle|sq|square|trl|trail|aly|alley|row|plaza|close|crescent|cres';

/** `123 Main St`, `4500 North Oak Avenue, Apt 5`, `12 rue de la Paix`, `Hauptstraße 5`, `Calle Mayor 7`, `PO Box 12`. */
const STREET_ADDRESS = new RegExp(
  [
    `^\\d{1,6}[a-z]?,?\\s+(?:[\\p{L}\\d.'-]+\\s+){0,5}(?:${STREET_SUFFIXES})\\b`,
    `^\\d{1,6}[a-z]?,?\\s+(?:rue|calle|via|avenida|chemin|rua)\\s+\\p{L}`,
    `^[\\p{L}.' -]{2,}(?:straße|strasse|str\\.|weg|gasse|allee|platz|laan|straat|gatan|vägen|vej)\\s*\\d{1,5}`,
    `^(?:rue|calle|via|avenida|rua)\\s+[\\p{L}.' -]{2,}\\s\\d{1,5}\\b`,
    `^p\\.?\\s?o\\.?\\s+box\\s+\\d+`,
  ].join('|'),
  'iu',
);

export function looksLikeStreetAddress(value: string): boolean {
  return STREET_ADDRESS.test(value.trim());
}

/** Common given names (US/UK/EU/LatAm/Asia): a value starting with one of these reads as a person. */
const GIVEN_NAMES = new Set(
  (
    'james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony mark ' +
    'donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob gary ' +
    'nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander frank patrick raymond ' +
    'jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle noah ethan jeremy walter christian ' +
    'keith roger terry austin sean gerald carl harold dylan arthur lawrence jordan jesse bryan billy bruce gabriel joe ' +
    'logan alan juan albert willie elijah wayne randy vincent liam mason lucas oliver leo max felix hans karl luca marco ' +
    'giuseppe francesco antonio carlos luis miguel javier diego pedro pablo jorge manuel ahmed mohammed muhammad ali omar ' +
    'hiroshi kenji wei li ming raj arjun rahul amit ivan dmitri sergei igor pierre jean louis francois mary patricia ' +
    'jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra ashley kimberly emily ' +
    'donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon laura cynthia kathleen amy angela ' +
    'shirley anna brenda pamela emma nicole helen samantha katherine christine debra rachel carolyn janet catherine ' +
    'maria heather diane ruth julie olivia joyce virginia victoria kelly lauren christina joan evelyn judith megan ' +
    'andrea cheryl hannah jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail alice ' +
    'julia judy sophia grace denise amber doris marilyn danielle beverly isabella theresa diana natalie brittany ' +
    'charlotte marie kayla alexis lori ava mia chloe zoe lily ella sofia lucia valentina camila elena ana carmen ' +
    'isabel rosa laura giulia chiara francesca sophie claire anne ingrid astrid greta fatima aisha yuki sakura mei ' +
    'priya ananya olga natasha svetlana'
  ).split(' '),
);

/** Two to four capitalised words (or `Last, First`) whose given name is a common one. */
export function looksLikePersonName(value: string): boolean {
  const text = value.trim();
  const word = "\\p{Lu}[\\p{L}'’.-]*";
  const reversed = new RegExp(`^(${word}),\\s*(${word})(?:\\s+${word})?$`, 'u').exec(text);
  if (reversed) return GIVEN_NAMES.has((reversed[2] ?? '').toLowerCase());
  if (!new RegExp(`^${word}(?:\\s+${word}){1,3}$`, 'u').test(text)) return false;
  const first = (text.split(/\s+/)[0] ?? '').replace(/[.'’-]+$/, '');
  return GIVEN_NAMES.has(first.toLowerCase());
}

interface ValuePattern {
  readonly kind: PiiKind;
  /** Plural, for "… look like emails". */
  readonly label: string;
  readonly test: (value: string) => boolean;
}

/** In precedence order: a card number is not also reported as a phone number. */
const VALUE_PATTERNS: readonly ValuePattern[] = [
  { kind: 'email', label: 'emails', test: looksLikeEmail },
  { kind: 'card_number', label: 'card numbers (Luhn-valid)', test: looksLikeCardNumber },
  { kind: 'national_id', label: 'US social security numbers', test: looksLikeSsn },
  { kind: 'bank_account', label: 'IBANs', test: looksLikeIban },
  { kind: 'phone', label: 'phone numbers', test: looksLikePhone },
  { kind: 'ip_address', label: 'IP addresses', test: looksLikeIpAddress },
  { kind: 'address', label: 'street addresses', test: looksLikeStreetAddress },
  { kind: 'person_name', label: 'person names', test: looksLikePersonName },
];

/** Samples as text: strings trimmed, numbers as digits; null, empty, binary and structured values dropped. */
function sampleTexts(values: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    if (typeof value === 'string') {
      const text = value.trim();
      if (text !== '') out.push(text);
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      out.push(String(value));
    } else if (typeof value === 'bigint') {
      out.push(value.toString());
    }
  }
  return out;
}

interface ValueMatch {
  readonly kind: PiiKind;
  readonly reason: string;
}

/** Value evidence for one column: each pattern at least `threshold` of the samples match. */
export function piiByValues(values: readonly unknown[], options: PiiDetectorOptions = {}): ValueMatch[] {
  const threshold = options.threshold ?? DEFAULT_PII_THRESHOLD;
  const minSamples = options.minSamples ?? DEFAULT_PII_MIN_SAMPLES;
  const texts = sampleTexts(values);
  if (texts.length === 0 || texts.length < minSamples) return [];
  const out: ValueMatch[] = [];
  for (const pattern of VALUE_PATTERNS) {
    if (out.some((match) => match.kind === 'card_number') && pattern.kind === 'phone') continue;
    let matched = 0;
    for (const text of texts) if (pattern.test(text)) matched++;
    const share = matched / texts.length;
    if (matched > 0 && share >= threshold) {
      out.push({
        kind: pattern.kind,
        reason: `${Math.round(share * 100)}% of ${texts.length} samples look like ${pattern.label}`,
      });
    }
  }
  return out;
}

/** Name and value evidence together. */
export function detectPii(column: PiiColumn, options: PiiDetectorOptions = {}): PiiVerdict {
  const byName = piiByName(column);
  const byValue = column.type === 'string' || column.type === 'number' ? piiByValues(column.values ?? [], options) : [];
  const kinds: PiiKind[] = [];
  for (const match of [...byName, ...byValue]) if (!kinds.includes(match.kind)) kinds.push(match.kind);
  const reasons = [...byName, ...byValue].map((match) => match.reason);
  return { pii: kinds.length > 0, kinds, reasons };
}
