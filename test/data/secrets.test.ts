// The scrubber on repositories shaped like real ones: a planted-secret corpus (every value must stay
// out of the dataset's tokens), a clean corpus (false positives stay under a bound), key and
// credential files skipped by name (and brought back on purpose), and the secretlint wiring.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { buildDataset } from '../../src/data/build';
import { readDataset, type TokenStream } from '../../src/data/datasetFiles';
import { isCredentialFile, namesCredentialFile, skipByName } from '../../src/data/filters';
import { scrub } from '../../src/data/scrub';
import {
  GATED_RULES,
  LIBRARY_WORDS,
  libraryScan,
  PRESET_RULES,
  triggeredRules,
} from '../../src/data/secrets/library';
import type { Tokenizer } from '../../src/engine/tokenizer/tokenizer';
import { CLEAN_FILES, leakProbes, PLANTED, PLANTED_FILES } from '../fixtures/secrets/corpus';
import { gpt2Fixture, tempDir, writeTree } from './helpers';

function decodeAll(stream: TokenStream, tokenizer: Tokenizer): string {
  return tokenizer.decode([...stream.ids].filter((id) => id !== tokenizer.eosId));
}

test('the planted corpus: at least 60 values of at least 25 kinds, in at least 15 files', () => {
  assert.ok(PLANTED.length >= 60, `${PLANTED.length} values`);
  assert.ok(new Set(PLANTED.map((p) => p.kind)).size >= 25);
  assert.ok(Object.keys(PLANTED_FILES).length >= 15);
  // every value is in some file
  const all = Object.values(PLANTED_FILES).join('\n');
  for (const p of PLANTED) assert.ok(all.includes(p.value), `${p.kind} is planted`);
});

test('a dataset built from the planted corpus holds none of the values; every file has its findings counted', async () => {
  const root = tempDir('planted');
  writeTree(root, PLANTED_FILES);
  const { modelDir, tokenizer } = await gpt2Fixture();
  const outDir = tempDir('out');
  const r = await buildDataset({
    sources: [root],
    outDir,
    modelDir,
    tokenizer,
    fimRate: 0,
    valFraction: 0.2,
    nearThreshold: 1,
  });
  const ds = readDataset(outDir);
  const text = decodeAll(ds.train, tokenizer) + '\n' + decodeAll(ds.validation, tokenizer);
  const leaks = PLANTED.filter((p) => leakProbes(p.value).some((probe) => text.includes(probe)));
  assert.deepEqual(
    leaks.map((p) => p.kind),
    [],
    'no planted value (nor a piece of one) is in the decoded training text',
  );
  // the text is there, with placeholders where the secrets were
  assert.match(text, /POSTGRES_PASSWORD: <SECRET>/);
  assert.match(text, /Authorization: Bearer <JWT>/);
  assert.match(text, /AccountKey=<AZURE_KEY>;/);
  // each file's findings are in the scrub report, counted
  const report = JSON.parse(readFileSync(join(outDir, 'scrub-report.json'), 'utf8')) as {
    files: { file: string; findings: { kind: string; count: number }[] }[];
  };
  const byFile = new Map(report.files.map((f) => [f.file, f.findings.reduce((n, x) => n + x.count, 0)]));
  for (const file of Object.keys(PLANTED_FILES))
    assert.ok((byFile.get(file) ?? 0) >= 1, `${file}: findings counted`);
  const total = Object.values(r.manifest.scrub.findings).reduce((a, b) => a + (b ?? 0), 0);
  assert.ok(total >= PLANTED.length - 5, `${total} findings for ${PLANTED.length} planted values`);
  assert.equal(r.manifest.scrub.filesWithFindings, Object.keys(PLANTED_FILES).length);
});

/** Measured: 0 findings on the clean corpus (a bound of 2 leaves room for rule changes, not for a habit). */
const CLEAN_FALSE_POSITIVE_BOUND = 2;

test('the clean corpus (lockfile hashes, UUIDs, SHAs, base64 images, minified JS, i18n) stays under the false-positive bound', () => {
  let findings = 0;
  const where: string[] = [];
  for (const [file, text] of Object.entries(CLEAN_FILES)) {
    const r = scrub(text, [], { path: file });
    for (const f of r.findings) {
      findings += f.count;
      where.push(`${file}:${f.line} ${f.kind}`);
    }
  }
  assert.ok(findings <= CLEAN_FALSE_POSITIVE_BOUND, `false positives: ${where.join(', ')}`);
});

test('each issue-14 miss is caught now', () => {
  const cases: [string, string][] = [
    ['DB_PASSWORD=Tr0ub&4dor!#3\n', 'DB_PASSWORD=<SECRET>\n'],
    ['  password: s3cret!&x # old\n', '  password: <SECRET> # old\n'],
    ['PASS=pw4!\n', 'PASS=<SECRET>\n'],
    ['PGPASSWORD=x9!k psql -h db\n', 'PGPASSWORD=<SECRET> psql -h db\n'],
    ["MYSQL_PWD='r00t#pw' mysqldump shop\n", "MYSQL_PWD='<SECRET>' mysqldump shop\n"],
    ["mysql -u admin -p'My$ql&pw!' -e 'select 1'\n", "mysql -u admin -p'<PASSWORD>' -e 'select 1'\n"],
    ['AccountKey=' + 'ab12CD34'.repeat(11) + '==;', 'AccountKey=<AZURE_KEY>;'],
    ['HF = "hf_' + 'aB3dE5gH7jK9'.repeat(3) + '"', 'HF = "<HF_TOKEN>"'],
    [
      'curl -H "Authorization: Bearer ' + 'k9X2'.repeat(10) + '" https://x.io',
      'curl -H "Authorization: Bearer <TOKEN>" https://x.io',
    ],
    ['client_secret: "' + 'Qz8-'.repeat(8) + '"', 'client_secret: "<SECRET>"'],
  ];
  for (const [input, expected] of cases) assert.equal(scrub(input).text, expected, input);
});

test('unquoted letters-only passwords on config lines, and a .env line’s whole value, are masked; their look-alikes are not', () => {
  const masked: [string, string, string?][] = [
    ['password: hunter\n', 'password: <SECRET>\n'],
    ['db:\n  password: Sunshine # rotate\n', 'db:\n  password: <SECRET> # rotate\n'],
    ['PASSWORD=dragonfly\n', 'PASSWORD=<SECRET>\n'],
    ['export REDIS_PASSWORD=letmein\n', 'export REDIS_PASSWORD=<SECRET>\n'],
    ['DB_PASSWORD=correct horse battery staple\n', 'DB_PASSWORD=<SECRET>\n', '.env'],
    ['API_TOKEN=abc def # note\n', 'API_TOKEN=<SECRET> # note\n', 'config/dev.env.sample'],
    // outside a .env file, NAME=x before a command is one word (the command is not the secret)
    ['PGPASSWORD=x9!k psql -h db\n', 'PGPASSWORD=<SECRET> psql -h db\n', 'scripts/env.sh'],
    ['PGPASSWORD=x9!k psql -h db\n', 'PGPASSWORD=<SECRET> psql -h db\n', 'src/env.ts'],
  ];
  for (const [input, expected, path] of masked)
    assert.equal(scrub(input, [], { path }).text, expected, input);
  for (const kept of [
    'password: ${PASSWORD}\n',
    'password: process.env.DB_PASSWORD\n',
    'password: <changeme>\n',
    'password: "{{ vault_pw }}"\n',
    '  token: string;\n',
    '    password: str\n',
    '  id-token: write\n',
    'auth: basic\n',
    '  password: Password\n',
    '  password: userPassword\n',
    'password = getpass\n',
    '  token: tok,\n',
    '  apiKey: apiKey\n',
    'PASSWORD=DB_PASS\n',
    'API_TOKEN=changeme\n',
  ])
    assert.equal(scrub(kept, [], { path: 'config.yaml' }).text, kept, kept);
});

test('key and credential files are skipped by name, and an include pattern that names one brings it back', async () => {
  for (const name of [
    '.env',
    '.env.production',
    'id_rsa',
    'id_ed25519.pub',
    'server.key',
    'credentials',
    '.npmrc',
    '.pypirc',
    '.netrc',
    '.git-credentials',
    'cert.pem',
    'store.p12',
    'release.keystore',
  ])
    assert.equal(skipByName(`a/${name}`), 'credential-file', name);
  for (const name of [
    'env.ts',
    'keys.ts',
    'credentials.py',
    'environment.yml',
    'dev.env.sample',
    'rsa_test.go',
    'monkey.key.ts',
  ])
    assert.equal(isCredentialFile(name), false, name);
  assert.equal(skipByName('a/.env', true), null);
  assert.ok(
    namesCredentialFile('.env') && namesCredentialFile('config/*.pem') && namesCredentialFile('.env*'),
  );
  assert.ok(!namesCredentialFile('**/*') && !namesCredentialFile('src/**/*.ts'));

  const root = tempDir('creds');
  writeTree(root, {
    'src/app.ts': 'export const port = 8080;\nexport function main() {\n  return port;\n}\n',
    '.env': 'DB_PASSWORD=Tr0ub&4dor!#3\n',
    '.env.production': 'API_KEY=Zx8vQ2mN7pL4rT9wAb\n',
    'deploy/id_rsa': '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n',
    'deploy/server.key': 'x\n',
    '.npmrc': '//registry.npmjs.org/:_authToken=abc\n',
  });
  const { modelDir, tokenizer } = await gpt2Fixture();
  const outDir = tempDir('out');
  const r = await buildDataset({ sources: [root], outDir, modelDir, tokenizer, fimRate: 0, valFraction: 0 });
  assert.equal(r.manifest.skipped['credential-file'], 5);
  // listed per file (the Datasets view reads the cache index)
  const index = JSON.parse(readFileSync(join(outDir, 'cache', 'index.json'), 'utf8')) as {
    files: Record<string, { skip?: string }>;
  };
  assert.equal(index.files['.env']?.skip, 'credential-file');
  assert.equal(index.files['deploy/id_rsa']?.skip, 'credential-file');
  // a rebuild writes nothing new for them
  const again = await buildDataset({
    sources: [root],
    outDir,
    modelDir,
    tokenizer,
    fimRate: 0,
    valFraction: 0,
  });
  assert.equal(again.manifest.skipped['credential-file'], 5);

  // on purpose: `.env` named by an include pattern is read, and scrubbed
  const on = await buildDataset({
    sources: [root],
    outDir,
    modelDir,
    tokenizer,
    fimRate: 0,
    valFraction: 0,
    include: ['src/**', '.env'],
  });
  assert.equal(on.manifest.skipped['credential-file'], undefined);
  const text = decodeAll(readDataset(outDir).train, tokenizer);
  assert.match(text, /DB_PASSWORD=<SECRET>/);
  assert.doesNotMatch(text, /Tr0ub/);
});

test('secretlint: every preset rule is known to the gate, the scan runs synchronously, and the gate passes what it finds', () => {
  assert.deepEqual(
    PRESET_RULES.filter((id) => !(id in GATED_RULES)),
    [],
    'a new preset rule: add its trigger to the gate in src/data/secrets/library.ts',
  );
  assert.deepEqual(
    Object.entries(GATED_RULES)
      .filter(([id, re]) => re !== null && !LIBRARY_WORDS[id]?.length)
      .map(([id]) => id),
    [],
    'every gated rule has its words for the one pass',
  );
  // every rule that finds something in a planted file (all rules run) is one the gate triggers
  for (const text of [...Object.values(PLANTED_FILES), ...Object.values(CLEAN_FILES)]) {
    const triggered = new Set(triggeredRules(text));
    for (const f of libraryScan(text, 'all'))
      assert.ok(triggered.has(`@secretlint/secretlint-rule-${f.rule}`), `the gate lets ${f.rule} through`);
  }
  assert.deepEqual(triggeredRules('export const x = 1;\n'), []);
  // the library's own findings (not only our rules) reach the output
  assert.equal(
    scrub('t = "xo' + 'xb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"').text,
    't = "<SLACK_TOKEN>"',
  );
  // a secretlint-disable comment does not let a secret through
  assert.equal(
    scrub('// secretlint-disable\nconst t = "gh' + 'p_' + 'a1B2'.repeat(9) + '";').text,
    '// secretlint-disable\nconst t = "<GITHUB_TOKEN>";',
  );
});

test('secretlint marks no performance entries: its profiler (one copy, the one core uses) is off', () => {
  performance.clearMarks();
  for (const text of Object.values(PLANTED_FILES)) libraryScan(text, 'all');
  assert.deepEqual(
    performance.getEntriesByType('mark').map((m) => m.name),
    [],
    'a second copy of @secretlint/profiler in node_modules, or its setEnabled(false) gone',
  );
});
