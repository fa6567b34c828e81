// Replaces secrets and personal data with typed placeholders before anything is tokenized.
// Two sources of findings, matched against the original text: @secretlint/core with its
// recommended preset (secrets/library.ts: provider tokens, keys, connection strings), and our own
// rules for what it misses (secrets/rules.ts: `KEY=value` assignments whose name names a secret,
// auth headers, passwords in URLs and command lines, Azure keys, hf_/Google/JWT tokens, private keys
// cut short, e-mail and IP addresses). One pass over the text (secrets/prefilter.ts) finds the
// words every rule's matches contain, and only the rules whose words occur run. Overlapping
// findings resolve to the earliest, then the widest. The report says kind, line and count, never
// the secret itself.
import { confirmedRules, LIBRARY_WORDS, libraryScan, type LibraryFinding } from './secrets/library';
import { Prefilter } from './secrets/prefilter';
import {
  findAuthHeadersAt,
  findAzureKeysAt,
  findCliPasswords,
  findConnectionPasswords,
  findEmails,
  findIpv4,
  findIpv6,
  findPrivateKeys,
  findSecretAssignmentsAt,
  findTokens,
  isDotenvFile,
  SECRET_WORDS,
  TOKEN_PATTERNS,
  type Push,
} from './secrets/rules';

export { entropy } from './secrets/rules';

export type SecretKind =
  | 'private-key'
  | 'aws-access-key'
  | 'github-token'
  | 'gitlab-token'
  | 'slack-token'
  | 'slack-webhook'
  | 'stripe-key'
  | 'openai-key'
  | 'anthropic-key'
  | 'huggingface-token'
  | 'google-api-key'
  | 'npm-token'
  | 'sendgrid-key'
  | 'azure-key'
  | 'api-key'
  | 'jwt'
  | 'auth-header'
  | 'connection-password'
  | 'secret-assignment'
  | 'email'
  | 'ip-address';

export const PLACEHOLDERS: Record<SecretKind, string> = {
  'private-key': '<PRIVATE_KEY>',
  'aws-access-key': '<AWS_ACCESS_KEY>',
  'github-token': '<GITHUB_TOKEN>',
  'gitlab-token': '<GITLAB_TOKEN>',
  'slack-token': '<SLACK_TOKEN>',
  'slack-webhook': '<SLACK_WEBHOOK>',
  'stripe-key': '<STRIPE_KEY>',
  'openai-key': '<API_KEY>',
  'anthropic-key': '<API_KEY>',
  'huggingface-token': '<HF_TOKEN>',
  'google-api-key': '<API_KEY>',
  'npm-token': '<NPM_TOKEN>',
  'sendgrid-key': '<API_KEY>',
  'azure-key': '<AZURE_KEY>',
  'api-key': '<API_KEY>',
  jwt: '<JWT>',
  'auth-header': '<TOKEN>',
  'connection-password': '<PASSWORD>',
  'secret-assignment': '<SECRET>',
  email: '<EMAIL>',
  'ip-address': '<IP_ADDRESS>',
};

export interface ScrubFinding {
  kind: SecretKind;
  /** 1-based line in the original file. */
  line: number;
  count: number;
  /** The user marked it a false positive: reported, left in the text. */
  allowed?: boolean;
}

/** A false positive the user marked: every finding of `kind` (or any kind) on `line` (or any line). */
export interface ScrubAllow {
  kind?: SecretKind;
  line?: number;
}

interface Match {
  start: number;
  end: number;
  kind: SecretKind;
}

/** The preset's rules to our kinds (others: `api-key`). */
const LIBRARY_KINDS: Record<string, SecretKind> = {
  aws: 'aws-access-key',
  privatekey: 'private-key',
  github: 'github-token',
  gitlab: 'gitlab-token',
  slack: 'slack-token',
  stripe: 'stripe-key',
  openai: 'openai-key',
  anthropic: 'anthropic-key',
  huggingface: 'huggingface-token',
  npm: 'npm-token',
  sendgrid: 'sendgrid-key',
  basicauth: 'connection-password',
  'database-connection-string': 'connection-password',
};

function libraryKind(f: LibraryFinding): SecretKind {
  if (f.rule === 'slack' && /webhook/i.test(f.messageId)) return 'slack-webhook';
  return LIBRARY_KINDS[f.rule] ?? 'api-key';
}

/** A URL the library reports whole: only its password goes (the host and path are not secret). */
const URL_USERINFO = /^[A-Za-z][\w+.-]*:\/\/[^\s:/@'"`]+:/;

function addLibraryFindings(
  text: string,
  rules: readonly string[],
  add: (start: number, end: number, kind: SecretKind) => void,
): void {
  for (const f of libraryScan(text, rules)) {
    const kind = libraryKind(f);
    if (kind === 'connection-password') {
      // our connection rule replaces just the password; a URL without one holds no secret
      const m = URL_USERINFO.exec(text.slice(f.start, f.end));
      if (!m) continue;
      const tail = text.slice(f.start + m[0].length, f.end);
      const slash = tail.indexOf('/');
      const upto = slash === -1 ? tail : tail.slice(0, slash);
      const at = upto.lastIndexOf('@');
      if (at <= 0) continue;
      add(f.start + m[0].length, f.start + m[0].length + at, kind);
      continue;
    }
    add(f.start, f.end, kind);
  }
}

/** What a rule's search may use beside the text: where its words start, whether it is a .env file. */
interface RuleInput {
  at: number[];
  dotenv: boolean;
}

/**
 * One of our rules. Most name `words`, one of which each of their matches contains (any case):
 * the one pass over a text (prefilter.ts) looks for all of them at once. Shapes that no word marks
 * (e-mail and IP addresses), or whose word is common in any case (Twilio's `SK…`: `task`, `mask`),
 * have a cheap test of their own instead.
 */
type OwnRule = { kind: SecretKind; find: (text: string, push: Push, input: RuleInput) => void } & (
  { words: readonly string[] } | { quick: (text: string) => boolean }
);

const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || ((c | 32) >= 97 && (c | 32) <= 102);
const isWordChar = (c: number) => isDigit(c) || ((c | 32) >= 97 && (c | 32) <= 122) || c === 95;

/** `prefix` (letters) where a word starts, in its case (`SK` in `SK0a1b…`, not in `TASK`). */
function hasWordStart(prefix: string): (text: string) => boolean {
  const re = new RegExp(prefix, 'g');
  return (text) => {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text))
      if (m.index === 0 || !isWordChar(text.charCodeAt(m.index - 1))) return true;
    return false;
  };
}

/** \d\.\d */
function hasDigitDotDigit(text: string): boolean {
  for (let i = text.indexOf('.'); i !== -1; i = text.indexOf('.', i + 1))
    if (isDigit(text.charCodeAt(i - 1)) && isDigit(text.charCodeAt(i + 1))) return true;
  return false;
}

/** [0-9a-fA-F]:[0-9a-fA-F]{0,4}:[0-9a-fA-F] */
function hasHexColons(text: string): boolean {
  for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) {
    if (!isHex(text.charCodeAt(i - 1))) continue;
    let j = i + 1;
    while (j - i <= 5 && isHex(text.charCodeAt(j))) j++;
    if (j - i <= 5 && text.charCodeAt(j) === 58 && isHex(text.charCodeAt(j + 1))) return true;
  }
  return false;
}

const words = (s: string) => s.split(' ');

const OWN_RULES: OwnRule[] = [
  { kind: 'private-key', words: ['private key'], find: findPrivateKeys },
  { kind: 'connection-password', words: ['://'], find: findConnectionPasswords },
  {
    kind: 'azure-key',
    words: words('shared accountkey sig='),
    find: (text, push, { at }) => findAzureKeysAt(text, at, push),
  },
  {
    kind: 'auth-header',
    words: words('bearer basic authoriz api-key auth-token private-token'),
    find: (text, push, { at }) => findAuthHeadersAt(text, at, push),
  },
  {
    kind: 'connection-password',
    // `-u` also where a line starts; --password and --passwd by `--pass`
    words: words(
      'mysql mariadb sshpass -u --user --pass --requirepass --token --secret --api-key --client-secret',
    ),
    find: findCliPasswords,
  },
  ...TOKEN_PATTERNS.map((p): OwnRule =>
    p.exactCase
      ? {
          kind: p.kind as SecretKind,
          quick: hasWordStart(p.word),
          find: (text, push) => findTokens(p.re, text, push),
        }
      : { kind: p.kind as SecretKind, words: [p.word], find: (text, push) => findTokens(p.re, text, push) },
  ),
  {
    kind: 'secret-assignment',
    words: SECRET_WORDS,
    find: (text, push, { at, dotenv }) => findSecretAssignmentsAt(text, at, push, dotenv),
  },
  { kind: 'email', quick: (t) => t.includes('@'), find: findEmails },
  { kind: 'ip-address', quick: hasDigitDotDigit, find: findIpv4 },
  { kind: 'ip-address', quick: hasHexColons, find: findIpv6 },
];

// The one pass: our rules' words, then the preset's (groups in that order).
const LIBRARY_IDS = Object.keys(LIBRARY_WORDS);
const PREFILTER = new Prefilter([
  ...OWN_RULES.map((r) => ('words' in r ? r.words : [])),
  ...LIBRARY_IDS.map((id) => LIBRARY_WORDS[id]),
]);

/** Which of two findings at one place names it: the specific kind before the generic shapes. */
const RANK: Partial<Record<SecretKind, number>> = {
  'connection-password': 1,
  'azure-key': 1,
  'api-key': 2,
  'auth-header': 2,
  'secret-assignment': 3,
  email: 4,
  'ip-address': 5,
};
const rank = (k: SecretKind) => RANK[k] ?? 0;
const isPersonal = (k: SecretKind) => k === 'email' || k === 'ip-address';

/** Where a text comes from, when known: a .env file's values are read as dotenv reads them. */
export interface ScrubSource {
  path?: string;
}

/** Every finding in `text`, by start (ties: the specific kind first, then the widest). */
export function findSecrets(text: string, source: ScrubSource = {}): Match[] {
  const matches: Match[] = [];
  const add = (start: number, end: number, kind: SecretKind) => {
    if (end > start) matches.push({ start, end, kind });
  };
  const at = PREFILTER.scan(text);
  const dotenv = source.path !== undefined && isDotenvFile(source.path);
  const candidates = LIBRARY_IDS.filter((_, i) => at[OWN_RULES.length + i] !== undefined);
  if (candidates.length > 0) addLibraryFindings(text, confirmedRules(text, candidates), add);
  OWN_RULES.forEach((r, i) => {
    const push: Push = (s, e) => add(s, e, r.kind);
    if (!('words' in r)) {
      if (r.quick(text)) r.find(text, push, { at: [], dotenv });
    } else if (at[i] !== undefined) r.find(text, push, { at: at[i], dotenv });
  });
  matches.sort((a, b) => a.start - b.start || rank(a.kind) - rank(b.kind) || b.end - a.end);
  return matches;
}

/** Scrubs one document; `allow` lists the findings the user marked as false positives. */
export function scrub(
  text: string,
  allow: ScrubAllow[] = [],
  source: ScrubSource = {},
): { text: string; findings: ScrubFinding[] } {
  const matches = findSecrets(text, source);
  if (matches.length === 0) return { text, findings: [] };
  const lines = new LineIndex(text);
  const findings = new Map<string, ScrubFinding>();
  const out: string[] = [];
  let pos = 0;
  let last: Match | null = null;
  for (const m of matches) {
    if (m.start < pos) {
      // overlaps a match already taken: it grows to cover both (nothing of either is left)
      if (last && m.end > pos && !isPersonal(m.kind)) pos = m.end;
      continue;
    }
    const line = lines.lineOf(m.start);
    const allowed = allow.some((a) => (a.kind ?? m.kind) === m.kind && (a.line ?? line) === line);
    const key = `${m.kind}:${line}:${allowed}`;
    const f = findings.get(key);
    if (f) f.count++;
    else
      findings.set(
        key,
        allowed ? { kind: m.kind, line, count: 1, allowed } : { kind: m.kind, line, count: 1 },
      );
    if (allowed) {
      last = null;
      continue;
    }
    out.push(text.slice(pos, m.start), PLACEHOLDERS[m.kind]);
    pos = m.end;
    last = m;
  }
  out.push(text.slice(pos));
  return { text: out.join(''), findings: [...findings.values()] };
}

/** 1-based line numbers from offsets by binary search over newline positions. */
class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}
