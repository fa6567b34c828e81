// The maintained part of the scrubber: @secretlint/core running @secretlint/secretlint-rule-preset-recommend.
//
// Scrubbing stays synchronous (it runs inside a file's preparation, in worker threads and in code
// paths that are not async). secretlint's `lintSource` returns a promise, but it calls every text
// rule synchronously before it returns: the promise only carries the collected messages. So each
// preset rule is wrapped, its reports are taken as they are made, and a last sentinel rule proves
// that all rules ran before `lintSource` returned; if an upgrade ever changes that, the scan throws
// (and the tests say so) instead of silently finding nothing.
import { lintSource } from '@secretlint/core';
import { performance } from 'node:perf_hooks';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';

// secretlint's profiler marks ~35 performance entries per scanned text, and its observer keeps
// every one in an array it searches linearly on each mark: memory grows without bound and scans
// slow down quadratically (a dataset build scans thousands of texts). Its instance is core's own
// (a nested copy we cannot import), so `performance.mark` is a no-op while a scan runs: the scan is
// synchronous, no other code runs meanwhile, and the method is restored after it.
const noMark = () => undefined;
function withoutMarks<T>(run: () => T): T {
  const perf = performance as unknown as { mark: unknown };
  const own = Object.prototype.hasOwnProperty.call(perf, 'mark');
  const saved = perf.mark;
  perf.mark = noMark;
  try {
    return run();
  } finally {
    if (own) perf.mark = saved;
    else delete perf.mark;
  }
}

export interface LibraryFinding {
  start: number;
  end: number;
  /** The rule's id without the `@secretlint/secretlint-rule-` prefix, e.g. `github`. */
  rule: string;
  /** The rule's message id, e.g. `SLACK_TOKEN`. */
  messageId: string;
}

/** Preset rules and the option each gets: AWS key ids are scanned; comments cannot turn rules off. */
const RULE_OPTIONS: Record<string, { options?: object; disabled?: boolean }> = {
  '@secretlint/secretlint-rule-aws': { options: { enableIDScanRule: true } },
  // `// secretlint-disable` in a file must not let its secrets into a dataset.
  '@secretlint/secretlint-rule-filter-comments': { disabled: true },
};

// The rule objects are typed loosely: their shapes belong to secretlint.
/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyRule = any;
interface RuleReport {
  message?: { messageId?: string };
  range: readonly [number, number];
}

/** The ids of the preset's rules (the gate below must know each). */
export const PRESET_RULES: string[] = recommended.rules.map((r: { meta: { id: string } }) => r.meta.id);

let sink: LibraryFinding[] | null = null;
let sentinelRan = false;

function wrap(rule: AnyRule): AnyRule {
  const name = String(rule.meta.id).replace('@secretlint/secretlint-rule-', '');
  return {
    ...rule,
    create(context: AnyRule, options: unknown) {
      const report = (d: RuleReport) =>
        sink?.push({ start: d.range[0], end: d.range[1], rule: name, messageId: d.message?.messageId ?? '' });
      return rule.create(Object.assign(Object.create(context), { report }), options);
    },
  };
}

const SENTINEL_ID = 'localtune-sentinel';
const sentinel: AnyRule = {
  messages: {},
  meta: { id: SENTINEL_ID, recommended: true, type: 'scanner', supportedContentTypes: ['all'], docs: {} },
  create() {
    return {
      file() {
        sentinelRan = true;
      },
    };
  },
};

const preset: AnyRule = {
  meta: { id: 'localtune-secretlint', recommended: true, type: 'preset' },
  rules: [...recommended.rules.map(wrap), sentinel],
  create(context: AnyRule) {
    for (const r of preset.rules) context.registerRule(r);
  },
};

/** The config for a set of preset rules (the others disabled), made once per set. */
const configs = new Map<string, AnyRule>();
function configFor(ruleIds: string[]): AnyRule {
  const key = ruleIds.join(' ');
  let config = configs.get(key);
  if (!config) {
    const on = new Set(ruleIds);
    config = {
      rules: [
        {
          id: preset.meta.id,
          rule: preset,
          rules: PRESET_RULES.map((id) => ({
            id,
            options: RULE_OPTIONS[id]?.options,
            disabled: !on.has(id) || RULE_OPTIONS[id]?.disabled === true,
          })),
        },
      ],
    };
    configs.set(key, config);
  }
  return config;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * Runs the preset rules that may match `text` (`all`: every rule, for tests); findings in order
 * of report.
 */
export function libraryScan(text: string, all = false): LibraryFinding[] {
  const rules = all ? PRESET_RULES : triggeredRules(text);
  if (rules.length === 0) return [];
  const found: LibraryFinding[] = [];
  sink = found;
  sentinelRan = false;
  try {
    withoutMarks(
      () =>
        lintSource({
          source: { content: text, filePath: 'document', ext: '', contentType: 'text' },
          options: { config: configFor(rules), noPhysicFilePath: true },
        }).catch(() => {}), // the messages it resolves to were taken above
    );
  } finally {
    sink = null;
  }
  if (!sentinelRan)
    throw new Error('@secretlint/core no longer runs its rules synchronously; the scrubber must be updated');
  return found;
}

// The gate. Running the preset costs ~1 ms of CPU a text (rule set-up, then each rule's regexes),
// and most files hold nothing any rule could match. Each rule's trigger is the literal its pattern
// starts with or requires (a little wider than the rule, never narrower); one pass of all of them
// together decides whether a text is scanned at all, then only the triggered rules run. A test
// checks that every preset rule has a trigger here, so an upgrade that brings a new rule fails
// until its trigger is added.
const ci = (word: string) => word.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`);
export const GATED_RULES: Record<string, RegExp | null> = {
  '@secretlint/secretlint-rule-aws': new RegExp(
    String.raw`\b(?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16}\b|(?:[Ss]ecret|SECRET)_?(?:[Aa]ccess|ACCESS)|(?:[Aa]ccount|ACCOUNT)(?:_?(?:ID|[Ii]d))?["']?\s*(?::|=>|=)\s*["']?\d{4}`,
  ),
  // needs a file name (.json/.p12) to do anything, and none is given: its key blocks are ours
  '@secretlint/secretlint-rule-gcp': null,
  '@secretlint/secretlint-rule-privatekey': /PRIVATE KEY/,
  '@secretlint/secretlint-rule-github': /gh[pousr]_|github_pat_|x-oauth-basic/,
  '@secretlint/secretlint-rule-npm': /_authToken=|npm_[A-Za-z0-9_]{36}/,
  '@secretlint/secretlint-rule-slack': /xox[bpaor]-|xapp-|hooks\.slack\.com|HOOKS\.SLACK\.COM/,
  '@secretlint/secretlint-rule-basicauth': /:\/\/[-\w]+:[-\w]+@/,
  '@secretlint/secretlint-rule-openai': /T3BlbkFJ/,
  '@secretlint/secretlint-rule-anthropic': /sk-ant-api0/,
  '@secretlint/secretlint-rule-groq': /gsk_[a-zA-Z0-9]{52}/,
  '@secretlint/secretlint-rule-huggingface': /hf_[a-zA-Z]{34}/,
  '@secretlint/secretlint-rule-linear': /lin_api_/,
  '@secretlint/secretlint-rule-notion': /ntn_\d{11}/,
  '@secretlint/secretlint-rule-sendgrid': /SG\.\w+\.\w/,
  '@secretlint/secretlint-rule-shopify': /shp(?:pa|ca|at|ss)_/,
  '@secretlint/secretlint-rule-stripe': /[sr]k_(?:live|test)_/,
  '@secretlint/secretlint-rule-gitlab': /glpat-/,
  '@secretlint/secretlint-rule-grafana': /glc_|glsa_/,
  '@secretlint/secretlint-rule-1password': /ops_ey/,
  '@secretlint/secretlint-rule-database-connection-string': new RegExp(
    `(?:${ci('mongodb')}|${ci('mysql')}|${ci('postgres')})[^:\\s]{0,8}:\\/\\/`,
  ),
  '@secretlint/secretlint-rule-hashicorp-vault': /hv[sbr]\.[A-Za-z0-9_-]{90}/,
  '@secretlint/secretlint-rule-vercel': /vc[pciark]_[A-Za-z0-9]{20}/,
  '@secretlint/secretlint-rule-databricks': /dapi[A-Fa-f0-9]{32}/,
  '@secretlint/secretlint-rule-docker': /dckr_pat_/,
  '@secretlint/secretlint-rule-figma': /figd_/,
  '@secretlint/secretlint-rule-cloudflare': /cf(?:k|ut|at)_[A-Za-z0-9]{40}/,
  '@secretlint/secretlint-rule-tailscale': /tskey-/,
  // switched off (RULE_OPTIONS)
  '@secretlint/secretlint-rule-filter-comments': null,
};

const TRIGGERS = Object.entries(GATED_RULES).filter((e): e is [string, RegExp] => e[1] !== null);

// The one pass over every text, a little wider than the triggers above (they then pick the rules):
// tokens with a `prefix_` are found from each `_` (a regex alternation of them all reads code at
// a third of the speed), the rest by one regex.
const UNDERSCORE_PREFIXES = [
  'ghp',
  'gho',
  'ghu',
  'ghs',
  'ghr',
  'github_pat',
  'npm',
  'gsk',
  'hf',
  'lin_api',
  'ntn',
  'shppa',
  'shpca',
  'shpat',
  'shpss',
  'sk_live',
  'sk_test',
  'rk_live',
  'rk_test',
  'glc',
  'glsa',
  'ops',
  'vcp',
  'vci',
  'vca',
  'vcr',
  'vck',
  'dckr_pat',
  'figd',
  'cfk',
  'cfut',
  'cfat',
];
/** The prefixes by their last character's code (the character before the `_`). */
const BY_LAST: (string[] | undefined)[] = [];
for (const p of UNDERSCORE_PREFIXES) (BY_LAST[p.charCodeAt(p.length - 1)] ??= []).push(p);

function hasUnderscoreToken(text: string): boolean {
  for (let i = text.indexOf('_'); i !== -1; i = text.indexOf('_', i + 1)) {
    const candidates = BY_LAST[text.charCodeAt(i - 1)];
    if (candidates) for (const p of candidates) if (text.startsWith(p, i - p.length)) return true;
    if (text.startsWith('authToken=', i + 1)) return true;
  }
  return false;
}

const OTHER_TRIGGERS = new RegExp(
  String.raw`PRIVATE KEY|x-oauth-basic|xox[bpaor]-|xapp-|hooks\.slack\.com|HOOKS\.SLACK\.COM|:\/\/[-\w]+:[-\w]+@|T3BlbkFJ|sk-ant-api0|SG\.\w+\.\w|glpat-|hv[sbr]\.|dapi[A-Fa-f0-9]{32}|tskey-|ops_ey|` +
    String.raw`(?:[Ss]ecret|SECRET)_?(?:[Aa]ccess|ACCESS)|(?:[Aa]ccount|ACCOUNT)(?:_?(?:ID|[Ii]d))?["']?\s*(?::|=>|=)\s*["']?\d{4}|` +
    `(?:${ci('mongodb')}|${ci('mysql')}|${ci('postgres')})[^:\\s]{0,8}:\\/\\/|` +
    String.raw`\b(?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16}\b`,
);

/** Whether any preset rule could match somewhere in `text` (one pass; wider than the rules). */
export function libraryMayMatch(text: string): boolean {
  return hasUnderscoreToken(text) || OTHER_TRIGGERS.test(text);
}

/** The preset rules that could match somewhere in `text` (none for most texts: one pass decides). */
export function triggeredRules(text: string): string[] {
  if (!libraryMayMatch(text)) return [];
  return TRIGGERS.filter(([, re]) => re.test(text)).map(([id]) => id);
}
