// Replaces secrets and personal data with typed placeholders before anything is tokenized.
// All patterns are matched against the original text first, so the report's line numbers are the
// file's own and overlapping matches resolve by priority (a GitHub token inside `token = "..."` is a
// GitHub token). The report says kind, line and count, never the secret itself.

export type SecretKind =
  | 'private-key'
  | 'aws-access-key'
  | 'github-token'
  | 'gitlab-token'
  | 'slack-token'
  | 'slack-webhook'
  | 'stripe-key'
  | 'openai-key'
  | 'jwt'
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
  jwt: '<JWT>',
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
  priority: number;
}

interface Pattern {
  kind: SecretKind;
  /** Cheap test on the whole text before the regex runs (most files contain no secrets). */
  quick: (text: string) => boolean;
  find: (text: string, push: (start: number, end: number) => void) => void;
}

/** Runs a global regex; the match (or capture group `group`) is the span to replace. */
function byRegex(re: RegExp, group = 0, accept?: (m: RegExpExecArray) => boolean): Pattern['find'] {
  return (text, push) => {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (accept && !accept(m)) continue;
      const start = group === 0 ? m.index : m.index + m[0].indexOf(m[group]);
      push(start, start + m[group].length);
    }
  };
}

const has = (s: string) => (text: string) => text.includes(s);
const hasMatch = (re: RegExp) => (text: string) => re.test(text);

// Quick tests by hand where a regex (or a search starting at a common letter) is slow: each looks
// for a rarer character with indexOf and checks its neighbours, and is true wherever the pattern's
// regex could match (it may be true where it does not).
const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || ((c | 32) >= 97 && (c | 32) <= 102);

/** A[SKBC][IC]A */
function hasAwsPrefix(text: string): boolean {
  for (let i = text.indexOf('A'); i !== -1; i = text.indexOf('A', i + 1)) {
    const a = text.charCodeAt(i + 1);
    const b = text.charCodeAt(i + 2);
    if (
      (a === 75 || a === 83 || a === 66 || a === 67) &&
      (b === 73 || b === 67) &&
      text.charCodeAt(i + 3) === 65
    )
      return true;
  }
  return false;
}

/** gh[pousr]_ or github_pat_ */
function hasGithubPrefix(text: string): boolean {
  for (let i = text.indexOf('_'); i !== -1; i = text.indexOf('_', i + 1)) {
    const c = text.charCodeAt(i - 1);
    if (
      (c === 112 || c === 111 || c === 117 || c === 115 || c === 114) &&
      text.charCodeAt(i - 2) === 104 &&
      text.charCodeAt(i - 3) === 103
    )
      return true;
  }
  return false;
}

/** `before` + `c`: found by searching for the rarer last character. */
function hasEndingIn(before: string, c: string): (text: string) => boolean {
  return (text) => {
    for (let i = text.indexOf(c); i !== -1; i = text.indexOf(c, i + 1))
      if (text.startsWith(before, i - before.length)) return true;
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

const PATTERNS: Pattern[] = [
  { kind: 'private-key', quick: has('PRIVATE KEY'), find: findPrivateKeys },
  {
    kind: 'slack-webhook',
    quick: has('hooks.slack.com'),
    find: byRegex(/https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]{8,}/g),
  },
  { kind: 'connection-password', quick: has('://'), find: findConnectionPasswords },
  {
    kind: 'aws-access-key',
    quick: hasAwsPrefix,
    find: byRegex(/\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g),
  },
  {
    kind: 'github-token',
    quick: (text) => hasGithubPrefix(text) || text.includes('github_pat_'),
    find: byRegex(/\b(?:gh[pousr]_[A-Za-z0-9]{36}\b|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b)/g),
  },
  { kind: 'gitlab-token', quick: has('glpat-'), find: byRegex(/\bglpat-[A-Za-z0-9_-]{20,}/g) },
  { kind: 'slack-token', quick: has('xox'), find: byRegex(/\bxox[abposr]-(?:[0-9]+-)+[A-Za-z0-9]{10,}\b/g) },
  { kind: 'stripe-key', quick: has('k_'), find: byRegex(/\b[sr]k_(?:live|test)_[A-Za-z0-9]{24,}\b/g) },
  {
    kind: 'openai-key',
    quick: hasEndingIn('sk', '-'),
    find: byRegex(/\bsk-(?:[a-z]+-)*[A-Za-z0-9_-]{32,}/g, 0, (m) => /[0-9]/.test(m[0]) && /[A-Z]/.test(m[0])),
  },
  {
    kind: 'jwt',
    quick: hasEndingIn('ey', 'J'),
    find: byRegex(/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g),
  },
  {
    kind: 'secret-assignment',
    quick: hasMatch(/secret|token|passw|pwd|pass\b|api_?key|access_?key|private_?key|credential|auth/i),
    find: findSecretAssignments,
  },
  { kind: 'email', quick: has('@'), find: findEmails },
  { kind: 'ip-address', quick: hasDigitDotDigit, find: findIpv4 },
  { kind: 'ip-address', quick: hasHexColons, find: findIpv6 },
];

/** Scrubs one document; `allow` lists the findings the user marked as false positives. */
export function scrub(text: string, allow: ScrubAllow[] = []): { text: string; findings: ScrubFinding[] } {
  const matches: Match[] = [];
  PATTERNS.forEach((p, priority) => {
    if (!p.quick(text)) return;
    p.find(text, (start, end) => matches.push({ start, end, kind: p.kind, priority }));
  });
  if (matches.length === 0) return { text, findings: [] };
  matches.sort((a, b) => a.start - b.start || a.priority - b.priority || b.end - a.end);

  const lines = new LineIndex(text);
  const findings = new Map<string, ScrubFinding>();
  const out: string[] = [];
  let pos = 0;
  for (const m of matches) {
    if (m.start < pos) continue; // overlaps a match already taken
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
    if (allowed) continue;
    out.push(text.slice(pos, m.start), PLACEHOLDERS[m.kind]);
    pos = m.end;
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

function findPrivateKeys(text: string, push: (s: number, e: number) => void): void {
  const begin = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----/g;
  for (let m = begin.exec(text); m; m = begin.exec(text)) {
    const endMarker = `-----END ${m[1]}-----`;
    const end = text.indexOf(endMarker, m.index);
    // A block cut short still holds key material: scrub to the end of the text.
    const stop = end === -1 ? text.length : end + endMarker.length;
    push(m.index, stop);
    begin.lastIndex = stop;
  }
}

// Secret-looking names are found by keyword first (a regex that starts at every identifier is slow);
// then the name is widened to its boundaries and checked in code, and the assignment is matched after it.
const SECRET_KEYWORD = /secret|token|passw|pwd|pass|api_?key|access_?key|private_?key|credential|auth/gi;
/** [\w.-] */
const isNameChar = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95 || c === 46 || c === 45;
// = "value", : value, =value (.env), := "value"
const ASSIGNED_VALUE =
  /["']?[ \t]*(?::=|=>|[:=])[ \t]*(?:(["'`])([^"'`\s\\]{8,256})\1|([A-Za-z0-9+/=_.~-]{16,256})(?=[\s,;]|$))/my;
const SENSITIVE_PARTS = new Set([
  'secret',
  'secrets',
  'token',
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'credential',
  'credentials',
  'apikey',
  'auth',
]);
const SENSITIVE_PAIRS = new Set([
  'api key',
  'access key',
  'private key',
  'secret key',
  'client secret',
  'auth token',
]);
const PLACEHOLDER_VALUE = /^(?:\$\{.*\}|\{\{.*\}\}|%\(.*\)s|<.*>|\$[A-Z_]+)$/;

function findSecretAssignments(text: string, push: (s: number, e: number) => void): void {
  SECRET_KEYWORD.lastIndex = 0;
  for (let k = SECRET_KEYWORD.exec(text); k; k = SECRET_KEYWORD.exec(text)) {
    let start = k.index;
    while (start > 0 && isNameChar(text.charCodeAt(start - 1))) start--;
    let end = k.index + k[0].length;
    while (end < text.length && isNameChar(text.charCodeAt(end))) end++;
    SECRET_KEYWORD.lastIndex = end; // one look per name
    // The assignment first: most names with a keyword in them are not assigned a literal.
    ASSIGNED_VALUE.lastIndex = end;
    const m = ASSIGNED_VALUE.exec(text);
    if (!m || !isSensitiveName(text.slice(start, end))) continue;
    const quoted = m[2] !== undefined;
    const value = quoted ? m[2] : m[3];
    if (PLACEHOLDER_VALUE.test(value)) continue;
    const classes = charClasses(value);
    // Unquoted values must look like a token (letters and digits) and be long: `token = next.value` is code.
    const ok = quoted
      ? classes >= 2 && entropy(value) >= 3
      : classes >= 2 && /[0-9]/.test(value) && /[A-Za-z]/.test(value) && entropy(value) >= 3.5;
    if (!ok) continue;
    const valueStart = end + m[0].lastIndexOf(value);
    push(valueStart, valueStart + value.length);
  }
}

function isSensitiveName(name: string): boolean {
  const parts = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[_.-]+/);
  for (let i = 0; i < parts.length; i++) {
    if (SENSITIVE_PARTS.has(parts[i])) return true;
    if (i > 0 && SENSITIVE_PAIRS.has(`${parts[i - 1]} ${parts[i]}`)) return true;
  }
  return false;
}

function charClasses(s: string): number {
  return +/[a-z]/.test(s) + +/[A-Z]/.test(s) + +/[0-9]/.test(s) + +/[^A-Za-z0-9]/.test(s);
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

const USER_PASSWORD_HOST = /[^\s:/@'"`]+:([^\s@'"`/]+)@[^\s@'"`/]/y;

/** scheme://user:PASSWORD@host: only the password goes. */
function findConnectionPasswords(text: string, push: (s: number, e: number) => void): void {
  for (let i = text.indexOf('://'); i !== -1; i = text.indexOf('://', i + 3)) {
    if (i === 0 || !/[a-zA-Z0-9]/.test(text[i - 1])) continue;
    USER_PASSWORD_HOST.lastIndex = i + 3;
    const m = USER_PASSWORD_HOST.exec(text);
    if (!m) continue;
    const start = i + 3 + m[0].indexOf(':') + 1;
    push(start, start + m[1].length);
  }
}

const LOCAL_CHAR = /[A-Za-z0-9._%+-]/;
const DOMAIN =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}/;

// Expands around each '@' instead of a regex with a leading `[...]+`, which is quadratic on long words.
function findEmails(text: string, push: (s: number, e: number) => void): void {
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start < 64 && LOCAL_CHAR.test(text[start - 1])) start--;
    while (start < at && text[start] === '.') start++;
    if (start === at) continue;
    const local = text.slice(start, at);
    // git@host:org/repo is an ssh remote and scheme://user@host a URL's user, not a mailbox
    if (local === 'git' || text.startsWith('://', start - 3)) continue;
    const domain = DOMAIN.exec(text.slice(at + 1, at + 256));
    if (!domain) continue;
    push(start, at + 1 + domain[0].length);
  }
}

const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)/g;
const IPV6 =
  /(?<![\w:.])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])|(?<![\w:.])(?:[0-9a-fA-F]{1,4}:){1,6}(?::[0-9a-fA-F]{1,4}){1,6}(?![\w:])/g;

function findIpv4(text: string, push: (s: number, e: number) => void): void {
  IPV4.lastIndex = 0;
  for (let m = IPV4.exec(text); m; m = IPV4.exec(text)) {
    const octets = m[0].split('.').map(Number);
    if (octets.some((o) => o > 255)) continue;
    // loopback, unspecified and netmasks are not anyone's address
    if (octets[0] === 127 || octets[0] === 0 || octets[0] === 255) continue;
    // 1.0.0.0 in AssemblyVersion("1.0.0.0") is a version number
    if (/version\W{0,4}$/i.test(text.slice(Math.max(0, m.index - 24), m.index))) continue;
    push(m.index, m.index + m[0].length);
  }
}

function findIpv6(text: string, push: (s: number, e: number) => void): void {
  IPV6.lastIndex = 0;
  for (let m = IPV6.exec(text); m; m = IPV6.exec(text)) {
    const groups = m[0].split(':').filter((g) => g !== '');
    if (groups.length > 8 || !/[0-9]/.test(m[0])) continue;
    if (!m[0].includes('::') && groups.length !== 8) continue;
    push(m.index, m.index + m[0].length);
  }
}
