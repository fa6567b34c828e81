// The maintained part of the scrubber: @secretlint/core running @secretlint/secretlint-rule-preset-recommend.
//
// Scrubbing stays synchronous (it runs inside a file's preparation, in worker threads and in code
// paths that are not async). secretlint's `lintSource` returns a promise, but it calls every text
// rule synchronously before it returns: the promise only carries the collected messages. So each
// preset rule is wrapped, its reports are taken as they are made, and a last sentinel rule proves
// that all rules ran before `lintSource` returned; if an upgrade ever changes that, the scan throws
// (and the tests say so) instead of silently finding nothing.
import { lintSource } from '@secretlint/core';
import { secretLintProfiler } from '@secretlint/profiler';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { Prefilter } from './prefilter';

// secretlint's profiler marks ~35 performance entries per scanned text and keeps every one in an
// array it searches on each mark: memory grows without bound and scans slow down quadratically (a
// dataset build scans thousands of texts). Its instance is the one @secretlint/core imports (one
// copy in node_modules: package.json depends on it directly), and switched off it marks nothing.
secretLintProfiler.setEnabled(false);

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

const WRAPPED = new Map<string, AnyRule>(recommended.rules.map((r: AnyRule) => [r.meta.id, wrap(r)]));

/**
 * The config for a set of preset rules, made once per set: a preset of just those rules (and the
 * sentinel). Registering a rule costs core a context and a handler each scan, so the others are
 * left out rather than registered disabled.
 */
const configs = new Map<string, AnyRule>();
function configFor(ruleIds: readonly string[]): AnyRule {
  const key = ruleIds.join(' ');
  let config = configs.get(key);
  if (!config) {
    const on = ruleIds.filter((id) => RULE_OPTIONS[id]?.disabled !== true);
    const rules = [...on.map((id) => WRAPPED.get(id)), sentinel];
    const preset: AnyRule = {
      meta: { id: 'localtune-secretlint', recommended: true, type: 'preset' },
      rules,
      create(context: AnyRule) {
        for (const r of rules) context.registerRule(r);
      },
    };
    config = {
      rules: [
        {
          id: preset.meta.id,
          rule: preset,
          rules: on.map((id) => ({ id, options: RULE_OPTIONS[id]?.options })),
        },
      ],
    };
    configs.set(key, config);
  }
  return config;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * Runs the preset rules `rules` on `text` (by default those that may match it; `all`: every rule,
 * for tests); findings in order of report.
 */
export function libraryScan(
  text: string,
  rules: readonly string[] | 'all' = triggeredRules(text),
): LibraryFinding[] {
  if (rules === 'all') rules = PRESET_RULES;
  if (rules.length === 0) return [];
  const found: LibraryFinding[] = [];
  sink = found;
  sentinelRan = false;
  try {
    void lintSource({
      source: { content: text, filePath: 'document', ext: '', contentType: 'text' },
      options: { config: configFor(rules), noPhysicFilePath: true },
    }).catch(() => {}); // the messages it resolves to were taken above
  } finally {
    sink = null;
  }
  if (!sentinelRan)
    throw new Error('@secretlint/core no longer runs its rules synchronously; the scrubber must be updated');
  return found;
}

// The gate. Running the preset costs ~1 ms of CPU a text (rule set-up, then each rule's regexes),
// and most files hold nothing any rule could match. Each rule's words (LIBRARY_WORDS) are the
// literals its pattern starts with or requires, case-insensitive (a little wider than the rule,
// never narrower): the scrubber's one pass over a text (prefilter.ts) looks for them among its own
// rules' words, and a rule whose words occur is confirmed by its trigger (GATED_RULES) before it
// runs. A test checks that every preset rule has a trigger and words here, so an upgrade that
// brings a new rule fails until they are added.
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

const words = (s: string) => s.split(' ');
/** The words each gated rule's matches contain (any case), for the one pass over a text. */
export const LIBRARY_WORDS: Record<string, readonly string[]> = {
  '@secretlint/secretlint-rule-aws': words(
    'akia a3t agpa aida aroa aipa anpa anva asia secret_access secretaccess account',
  ),
  '@secretlint/secretlint-rule-privatekey': ['private key'],
  '@secretlint/secretlint-rule-github': words('ghp_ gho_ ghu_ ghs_ ghr_ github_pat_ x-oauth-basic'),
  '@secretlint/secretlint-rule-npm': words('_authtoken= npm_'),
  '@secretlint/secretlint-rule-slack': words('xoxb- xoxp- xoxa- xoxo- xoxr- xapp- hooks.slack.com'),
  '@secretlint/secretlint-rule-basicauth': ['://'],
  '@secretlint/secretlint-rule-openai': ['t3blbkfj'],
  '@secretlint/secretlint-rule-anthropic': ['sk-ant-api0'],
  '@secretlint/secretlint-rule-groq': ['gsk_'],
  '@secretlint/secretlint-rule-huggingface': ['hf_'],
  '@secretlint/secretlint-rule-linear': ['lin_api_'],
  '@secretlint/secretlint-rule-notion': ['ntn_'],
  '@secretlint/secretlint-rule-sendgrid': ['sg.'],
  '@secretlint/secretlint-rule-shopify': words('shppa_ shpca_ shpat_ shpss_'),
  '@secretlint/secretlint-rule-stripe': words('sk_live_ sk_test_ rk_live_ rk_test_'),
  '@secretlint/secretlint-rule-gitlab': ['glpat-'],
  '@secretlint/secretlint-rule-grafana': words('glc_ glsa_'),
  '@secretlint/secretlint-rule-1password': ['ops_ey'],
  '@secretlint/secretlint-rule-database-connection-string': words('mongodb mysql postgres'),
  '@secretlint/secretlint-rule-hashicorp-vault': words('hvs. hvb. hvr.'),
  '@secretlint/secretlint-rule-vercel': words('vcp_ vcc_ vci_ vca_ vcr_ vck_'),
  '@secretlint/secretlint-rule-databricks': ['dapi'],
  '@secretlint/secretlint-rule-docker': ['dckr_pat_'],
  '@secretlint/secretlint-rule-figma': ['figd_'],
  '@secretlint/secretlint-rule-cloudflare': words('cfk_ cfut_ cfat_'),
  '@secretlint/secretlint-rule-tailscale': ['tskey-'],
};

/** Of the rules whose words a text holds, those whose trigger matches in it: the rules to run. */
export function confirmedRules(text: string, candidates: readonly string[]): string[] {
  return candidates.filter((id) => GATED_RULES[id]?.test(text) === true);
}

let ownPrefilter: Prefilter | undefined;
const GATED_IDS = Object.keys(LIBRARY_WORDS);
/** The preset rules that could match somewhere in `text`, found on their own (the scrubber shares one pass). */
export function triggeredRules(text: string): string[] {
  ownPrefilter ??= new Prefilter(GATED_IDS.map((id) => LIBRARY_WORDS[id]));
  const at = ownPrefilter.scan(text);
  return confirmedRules(
    text,
    GATED_IDS.filter((_, i) => at[i] !== undefined),
  );
}
