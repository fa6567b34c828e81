// Our own rules: only what @secretlint's recommended preset does not find (see library.ts).
// Each rule pushes the span of the secret itself (the value, not its name), so the text around it
// keeps its shape: `PASSWORD=<PASSWORD>`, `Authorization: Bearer <TOKEN>`.
// References read (not copied): gitleaks' config/gitleaks.toml (generic-api-key, curl auth
// header/user rules, azure storage key) and detect-secrets' KeywordDetector (keyword + assignment
// shapes for quoted and unquoted values).

export type Push = (start: number, end: number) => void;

const isDigit = (c: number) => c >= 48 && c <= 57;
/** [\w.-] */
const isNameChar = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95 || c === 46 || c === 45;

// ---- assignments whose name names a secret -------------------------------------------------------

// Found by keyword first (a regex that starts at every identifier is slow); the name is then
// widened to its boundaries and judged in code, and the value is read after it.
// (api_key, access_key, private_key, signingKey are found by `key`; passw by `pass`)
export const SECRET_WORDS = ['secret', 'token', 'pass', 'pwd', 'auth', 'key', 'credential'] as const;

const SENSITIVE_PARTS = new Set([
  'secret',
  'secrets',
  'token',
  'password',
  'passwd',
  'pwd',
  'pw',
  'pass',
  'passphrase',
  'credential',
  'credentials',
  'apikey',
  'auth',
  'secretkey',
  'accesskey',
  'privatekey',
  'clientsecret',
  'authtoken',
  'accesstoken',
  'sas',
]);
const SENSITIVE_PAIRS = new Set([
  'api key',
  'access key',
  'private key',
  'secret key',
  'signing key',
  'encryption key',
  'master key',
  'account key',
  'client secret',
  'auth token',
]);
/** A name ending in one of these speaks about a secret without holding one: `password_min_length`. */
const NOT_A_SECRET_SUFFIX = new Set([
  'length',
  'len',
  'min',
  'max',
  'url',
  'uri',
  'endpoint',
  'path',
  'file',
  'dir',
  'type',
  'name',
  'id',
  'header',
  'field',
  'label',
  'prompt',
  'hint',
  'policy',
  'regex',
  'pattern',
  'expiry',
  'expires',
  'expiration',
  'ttl',
  'timeout',
  'count',
  'enabled',
  'required',
  'reset',
  'env',
  'var',
  'prefix',
  'format',
  'placeholder',
  'message',
  'error',
  'validator',
  'strategy',
  'provider',
  'mode',
  'kind',
  'scope',
  'scopes',
  'version',
  'rotation',
  'hash',
  'salt',
  'manager',
  'store',
  'ref',
  'arn',
  'usage',
  'lifetime',
  'interval',
  'class',
  'service',
  'client',
  'test',
  'confirm',
  'confirmation',
  'visible',
  'input',
  'form',
  'reset',
  'changed',
  'encoding',
  'algorithm',
  'user',
  'username',
  'login',
  'method',
  'methods',
  'flow',
  'config',
  'options',
  'source',
  'location',
  'description',
  'desc',
  'text',
  'title',
  'help',
  'tooltip',
  'caption',
  'doc',
  'docs',
  'example',
]);
/** Labels (`"login.password": "Password"`) are UI text, not the secret. */
const LABEL_WORDS =
  /^(?:password|passwort|passphrase|secret|token|api key|access key|private key|credentials?|pin)\s*:?$/i;

export function isSensitiveName(name: string): boolean {
  const parts = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[_.-]+/)
    .filter((p) => p !== '');
  if (parts.length === 0) return false;
  if (NOT_A_SECRET_SUFFIX.has(parts[parts.length - 1])) return false;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (SENSITIVE_PARTS.has(p)) return true;
    // PGPASSWORD, DBPASS, GITHUBTOKEN
    if (/(?:password|passwd|secret|token)$/.test(p) && p.length > 6) return true;
    if (i > 0 && SENSITIVE_PAIRS.has(`${parts[i - 1]} ${parts[i]}`)) return true;
  }
  return false;
}

/** Values that stand for a secret kept elsewhere: `${DB_PASSWORD}`, `{{ .Values.pw }}`, `<token>`. */
const PLACEHOLDER_VALUE =
  /^(?:\$\{.*\}|\$\(.*\)|\{\{.*\}\}|%\(.*\)s|%[sd]|<[^<>]*>|\$[A-Za-z_][A-Za-z0-9_]*|\*+|x{3,}|\.{3}|…|null|nil|none|undefined|true|false|string|number|required|optional|env\(.*\)|os\.environ.*|process\.env.*|secret(?:s)?\.[\w.]+)$/i;
/** An unquoted value that is code, not a literal: a call, member access, type, or expression. */
function looksLikeCode(v: string): boolean {
  if (/^[A-Za-z_$][\w$]*(?:(?:\.|\?\.|::)[A-Za-z_$][\w$]*)*(?:\(.*\)?|\[.*\]?)?[,;)]*$/.test(v)) {
    // a bare word is code in code (a variable), a password in config only when it has digits
    return !/[0-9]/.test(v) || /[.([]/.test(v) || /[,;]$/.test(v);
  }
  if (/^[[{(]/.test(v)) return true; // object, list, tuple
  if (/^[A-Za-z_][\w.]*\s+=\s/.test(v)) return true; // `secret: bytes = b""`: a type, then the default
  if (/^(?:new|await|function|lambda|fn|self|this|require|import)\b/.test(v)) return true;
  if (/^[\w.$]+\s*(?:\|\||&&|\?\?|\||\?|\+|==)/.test(v)) return true; // a || b, a | None, a ? b : c
  if (/^[A-Za-z_$][\w$.]*\s*=>/.test(v) || /^\(.*\)\s*=>/.test(v)) return true;
  return false;
}

/**
 * name = value, name: value, name := value, name => value, "name": "value", --name=value, in code,
 * .env, YAML, properties, INI, TOML, shell. Quoted values may hold anything; unquoted ones run to
 * the end of the line (a ` #` comment cut), or to `&`/`;` inside a query or connection string.
 * `positions`: where the SECRET_WORDS occur in `text`, in order (the scrubber's one pass finds
 * them). `dotenv`: the text is a .env file (isDotenvFile), whose unquoted values run to the line's end.
 */
export function findSecretAssignmentsAt(
  text: string,
  positions: readonly number[],
  push: Push,
  dotenv = false,
): void {
  let nameEnd = 0;
  for (const at of positions) {
    if (at < nameEnd) continue; // one look per name
    let start = at;
    while (start > 0 && isNameChar(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && isNameChar(text.charCodeAt(end))) end++;
    nameEnd = end;
    while (start < end && text.charCodeAt(start) === 45) start++; // --password
    const value = assignedValue(text, start, end, dotenv);
    if (!value) continue;
    const name = text.slice(start, end);
    // A name that only ends in `key` (signingKey, DB_KEY) counts when its value looks random.
    if (isSensitiveName(name) || (/key$/i.test(name) && highEntropy(text.slice(value.start, value.end))))
      push(value.start, value.end);
  }
}

/** A .env file by its name (`.env`, `.env.local`, `dev.env.sample`), not code named after one (`env.ts`). */
export function isDotenvFile(path: string): boolean {
  const name = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  return (
    /(?:^|\.)env(?:\.[\w-]+)*$/i.test(name) && !/\.(?:[cm]?[jt]sx?|py|rb|go|rs|java|kt|php|sh)$/i.test(name)
  );
}

/** The value assigned right after a name ending at `end`, or null. */
function assignedValue(
  text: string,
  nameStart: number,
  end: number,
  dotenv: boolean,
): { start: number; end: number } | null {
  let i = end;
  const q0 = text[i];
  if (q0 === '"' || q0 === "'" || q0 === '`' || q0 === ']') i++; // "name": / ['name'] =
  if (text[i] === "'" || text[i] === '"') i++;
  while (text[i] === ' ' || text[i] === '\t') i++;
  let op = '';
  if (text.startsWith(':=', i) || text.startsWith('=>', i)) op = text.slice(i, i + 2);
  else if (text[i] === '=' || text[i] === ':') op = text[i];
  else return null;
  if (text[i + op.length] === '=') return null; // ==, ===
  if (op === ':' && text[i + 1] === ':') return null; // Foo::bar
  i += op.length;
  while (text[i] === ' ' || text[i] === '\t') i++;
  // a YAML block scalar or a value on the next line is not read
  const c = text[i];
  if (c === '"' || c === "'" || c === '`') {
    const close = text.indexOf(c, i + 1);
    const nl = text.indexOf('\n', i + 1);
    if (close === -1 || (nl !== -1 && nl < close)) return null;
    const v = text.slice(i + 1, close);
    if (v.length < 3 || PLACEHOLDER_VALUE.test(v.trim()) || LABEL_WORDS.test(v) || /^\s|\s$/.test(v))
      return null;
    // code strings that are prose, not secrets: several words
    if (/\s\S+\s/.test(v) && !/[0-9]/.test(v)) return null;
    return { start: i + 1, end: close };
  }
  if (c === undefined || c === '\n' || c === '\r' || c === '|' || c === '>' || c === '#') return null;
  // unquoted: where does the value stop?
  const before = text.charCodeAt(nameStart - 1);
  const inQuery = before === 63 /* ? */ || before === 38 /* & */ || before === 59; /* ; */
  let lineEnd = text.indexOf('\n', i);
  if (lineEnd === -1) lineEnd = text.length;
  if (text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
  let stop = lineEnd;
  let ownLine = false;
  if (inQuery) {
    const m = /[&;\s"'`]/.exec(text.slice(i, lineEnd));
    if (m) stop = i + m.index;
  } else {
    const lineStart = text.lastIndexOf('\n', nameStart - 1) + 1;
    const lead = text.slice(lineStart, nameStart);
    // KEY=value at the start of a line (.env, properties, YAML, INI), or after `export`/`- `/`set`
    ownLine = /^\s*(?:export\s+|set\s+|-\s+|ENV\s+|ARG\s+)?$/.test(lead);
    // NAME=value with nothing around the `=` is shell or .env: one word (`PGPASSWORD=x psql -h db`),
    // but a .env file's line is all value (`KEY=correct horse battery`: dotenv reads it so)
    const shellWord = op === '=' && text[i - 1] === '=' && !(dotenv && ownLine);
    if (!ownLine || shellWord) {
      // inside a command or code: the value is one word (`PGPASSWORD=x psql`, `--password=x`)
      const m = /[\s"'`,;]/.exec(text.slice(i, lineEnd));
      if (m) stop = i + m.index;
      // a closing bracket ends the value unless the value opened it (`\${DB_PASSWORD}`)
      const word = text.slice(i, stop);
      const close = word.search(/[)}\]]/);
      if (close !== -1 && !/[({[]/.test(word.slice(0, close))) stop = i + close;
      if (!ownLine && op !== '=' && op !== ':') return null;
    }
    const comment = text.slice(i, stop).search(/\s#|\s\/\/ /);
    if (comment !== -1) stop = i + comment;
  }
  const raw = text.slice(i, stop).trimEnd();
  // a trailing comma or semicolon ends a statement in code, not a password
  const v = /[;,]$/.test(raw) && !/^\S+=/.test(raw) ? raw.replace(/[;,]+$/, '') : raw;
  // numbers are settings (`max_tokens: 4096`), not secrets
  if (v.length < 3 || /^[\d.]+$/.test(v) || PLACEHOLDER_VALUE.test(v)) return null;
  if (looksLikeCode(v) && !(ownLine && v === raw && isConfigWord(v, op, text, i))) return null;
  return { start: i, end: i + v.length };
}

/**
 * Words a config value or a declaration holds that are not a password: types, YAML words, auth
 * schemes (`auth: basic`), permissions (`id-token: write` in a GitHub workflow), placeholders.
 */
const NOT_A_PASSWORD_WORD =
  /^(?:str|string|bytes|bytearray|int|integer|bool|boolean|number|float|double|any|unknown|object|text|char|varchar|uuid|json|list|dict|map|array|optional|default|empty|yes|off|env|self|this|none|null|nil|undefined|read|write|inherit|enabled|disabled|auto|prompt|random|generate|basic|bearer|digest|oauth|oidc|saml|ldap|kerberos|ntlm|jwt|changeme|example|sample|placeholder|todo|tbd|redacted|hidden|masked)$/i;

/**
 * A bare word of letters on a config line is the password there (`password: hunter` in YAML,
 * `PASSWORD=hunter` in .env/INI), though in code it would name a variable. Left as code: a word
 * with capitals inside (`userPassword`, `DB_PASS`: identifiers, constants), one that names a
 * secret itself (`token: Token`, a type), type and YAML words, and `name = word` with spaces
 * around the `=` (an assignment in Python or Ruby).
 */
function isConfigWord(v: string, op: string, text: string, valueStart: number): boolean {
  if (!/^[A-Za-z]+$/.test(v) || /[A-Z]/.test(v.slice(1))) return false;
  if (NOT_A_PASSWORD_WORD.test(v) || /secret|token|pass|pwd|auth|key|credential/i.test(v)) return false;
  if (op === ':') return text[valueStart - 1] === ' ' || text[valueStart - 1] === '\t';
  return op === '=' && text[valueStart - 1] === '=';
}

// ---- other shapes ----------------------------------------------------------------------------

/** Authorization: Bearer/Basic/Token … in headers, curl -H, fetch options, HTTP files. */
const AUTH_HEADER =
  /\b(?:authorization|proxy-authorization|x-api-key|x-auth-token|api-key|private-token)["']?\s*[:=,]\s*["']?\s*(?:(?:bearer|basic|token|digest|bot|apikey)\s+)?([A-Za-z0-9._~+/=-]{8,})/iy;
/** A Bearer token outside a header line: `bearer eyJ…`, `-H "Bearer x"`. */
const BEARER = /\b(?:bearer|basic)\s+([A-Za-z0-9._~+/-]{16,}=*)/iy;
/**
 * Where a header name starts, back from where the one pass found its word (prefilter.ts): at it,
 * or 2 before (`x-api-key`, `x-auth-token`), or 6 before (`proxy-authorization`).
 */
const AUTH_NAME_BACK = [0, 2, 6];

/** The headers whose words start at `at` (each searched right there, not through the whole text). */
export function findAuthHeadersAt(text: string, at: readonly number[], push: Push): void {
  for (const p of at) {
    for (const back of AUTH_NAME_BACK) if (p >= back) pushAuthValue(AUTH_HEADER, p - back, text, push);
    pushAuthValue(BEARER, p, text, push);
  }
}

function pushAuthValue(re: RegExp, from: number, text: string, push: Push): void {
  re.lastIndex = from;
  const m = re.exec(text);
  if (!m) return;
  const v = m[1];
  if (/^(?:bearer|basic|token)$/i.test(v) || !/[0-9]/.test(v) || PLACEHOLDER_VALUE.test(v)) return;
  const s = m.index + m[0].length - v.length;
  push(s, s + v.length);
}

/** scheme://user:PASSWORD@host (any scheme, the password may hold `@`, `!`, `#`…): only the password. */
const USER_PASSWORD_HOST = /[^\s:/@'"`]*:([^\s'"`]+)@[A-Za-z0-9[]/y;
export function findConnectionPasswords(text: string, push: Push): void {
  for (let i = text.indexOf('://'); i !== -1; i = text.indexOf('://', i + 3)) {
    if (i === 0 || !/[a-zA-Z0-9]/.test(text[i - 1])) continue;
    USER_PASSWORD_HOST.lastIndex = i + 3;
    const m = USER_PASSWORD_HOST.exec(text);
    if (!m) continue;
    // The greedy match ends at the last '@' followed by a host: a path after the host cuts it back.
    const user = m[0].indexOf(':');
    let password = m[1];
    const slash = password.indexOf('/');
    if (slash !== -1) {
      password = password.slice(0, slash);
      const at = password.lastIndexOf('@');
      if (at <= 0) continue;
      password = password.slice(0, at);
    }
    if (password === '' || PLACEHOLDER_VALUE.test(password)) continue;
    const start = i + 3 + user + 1;
    push(start, start + password.length);
  }
}

/** A value that looks generated: long, and varied like base64 or hex key material. */
export function highEntropy(v: string): boolean {
  if (v.length < 20 || /\s/.test(v)) return false;
  if (/^[0-9a-f]+$/i.test(v)) return v.length >= 32 && entropy(v) >= 3.3;
  return entropy(v) >= 4 && /[0-9]/.test(v) && /[a-z]/.test(v) && /[A-Z]/.test(v);
}

/** Azure: AccountKey=…; SharedAccessKey=…; SAS `sig=…`. */
const AZURE =
  /\b(?:AccountKey|SharedAccessKey|SharedSecret|SharedAccessSignature)=([^;"'\s]{8,})|[?&]sig=([A-Za-z0-9%+/=]{16,})/y;
/** The keys whose words start at `at`: `AccountKey=`/`Shared…=` there, `?sig=` one before. */
export function findAzureKeysAt(text: string, at: readonly number[], push: Push): void {
  for (const p of at)
    for (const from of [p, p - 1]) {
      if (from < 0) continue;
      AZURE.lastIndex = from;
      const m = AZURE.exec(text);
      if (!m) continue;
      const v = m[1] ?? m[2];
      if (PLACEHOLDER_VALUE.test(v)) continue;
      const s = m.index + m[0].length - v.length;
      push(s, s + v.length);
    }
}

/** mysql -pSECRET / -p'…', sshpass -p …, curl -u user:pass, --password value. */
const CLI_PASSWORD =
  /\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^\n]*?\s-p(?:'([^'\n]+)'|"([^"\n]+)"|([^\s'"]+))|\bsshpass\s+-p\s*(?:'([^'\n]+)'|"([^"\n]+)"|(\S+))|(?:^|\s)(?:-u|--user)[ =]['"]?[^\s:'"]+:([^\s'"]+)|--(?:password|passwd|requirepass|token|secret|api-key|client-secret)\s+(?:'([^'\n]+)'|"([^"\n]+)"|([^\s'"-]\S*))/gm;
export function findCliPasswords(text: string, push: Push): void {
  CLI_PASSWORD.lastIndex = 0;
  for (let m = CLI_PASSWORD.exec(text); m; m = CLI_PASSWORD.exec(text)) {
    let g = 1;
    while (g < m.length && m[g] === undefined) g++;
    const v = m[g];
    if (!v || PLACEHOLDER_VALUE.test(v)) continue;
    const s = m.index + m[0].lastIndexOf(v);
    push(s, s + v.length);
  }
}

/** Token formats the preset lacks or reads narrowly; `word` starts each (any case, unless `exactCase`). */
export const TOKEN_PATTERNS: { kind: string; re: RegExp; word: string; exactCase?: true }[] = [
  { kind: 'huggingface-token', re: /\bhf_[A-Za-z0-9]{30,40}\b/g, word: 'hf_' },
  { kind: 'google-api-key', re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, word: 'AIza' },
  { kind: 'jwt', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, word: 'eyJ' },
  {
    kind: 'openai-key',
    re: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])/g,
    word: 'sk-',
  },
  { kind: 'api-key', re: /\bSK[0-9a-f]{32}\b/g, word: 'SK', exactCase: true }, // Twilio API key
  { kind: 'npm-token', re: /\bnpm_[A-Za-z0-9]{36}\b/g, word: 'npm_' },
];

export function findTokens(re: RegExp, text: string, push: Push): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (re.source.startsWith('\\bsk-') && !(/[0-9]/.test(m[0]) && /[A-Z]/.test(m[0]))) continue;
    push(m.index, m.index + m[0].length);
  }
}

export function findPrivateKeys(text: string, push: Push): void {
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

// ---- personal data ------------------------------------------------------------------------------

const LOCAL_CHAR = /[A-Za-z0-9._%+-]/;
const DOMAIN =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}/;

// Expands around each '@' instead of a regex with a leading `[...]+`, which is quadratic on long words.
export function findEmails(text: string, push: Push): void {
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

export function findIpv4(text: string, push: Push): void {
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

export function findIpv6(text: string, push: Push): void {
  IPV6.lastIndex = 0;
  for (let m = IPV6.exec(text); m; m = IPV6.exec(text)) {
    const groups = m[0].split(':').filter((g) => g !== '');
    if (groups.length > 8 || !/[0-9]/.test(m[0])) continue;
    if (!m[0].includes('::') && groups.length !== 8) continue;
    push(m.index, m.index + m[0].length);
  }
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
