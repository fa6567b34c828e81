// Chat evaluation end to end through the CLI, on the tiny ChatML model: a support FAQ exported as
// CSV with its own column names is built into a dataset (`--prompt-column`/`--response-column`),
// whose split holds out whole conversations (records, seeded); `train` tunes on the rest and
// `eval` reports the held-out conversations' loss base vs tuned and both models' replies to the
// held-out prompts — in the JSON report, the printed table and the model card `export` writes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './capture';
import type { DatasetManifest } from '../../src/data/manifest';
import type { EvalReport } from '../../src/eval/report';
import { writeChatModel } from '../../fixtures/tinyChat';

const tmp = mkdtempSync(join(tmpdir(), 'lt-cli-chat-eval-'));
const base = join(tmp, 'base');
const csv = join(tmp, 'support.csv');
const TOPICS = ['invoices', 'passwords', 'refunds', 'shipping', 'accounts', 'exports', 'backups', 'the API'];
const TOPICS2 = ['billing', 'logins', 'returns', 'delivery', 'profiles', 'reports', 'restores', 'webhooks'];
// Every answer opens the same way: a tuned model learns it, the base (random weights) cannot.
const rows = [...TOPICS, ...TOPICS2].map((t) => [
  `How do I handle ${t}?`,
  `Thanks for asking! See the ${t} page.`,
]);

async function build(out: string, ...extra: string[]) {
  return cli(
    'dataset',
    'build',
    '--from',
    csv,
    '--model',
    base,
    '--out',
    out,
    '--prompt-column',
    'Customer asked',
    '--response-column',
    'We replied',
    '--val-fraction',
    '0.25',
    '--json',
    ...extra,
  );
}

const manifestOf = (r: { out: string[] }) =>
  (JSON.parse(r.out.at(-1)!) as { manifest: DatasetManifest }).manifest;

let manifest: DatasetManifest;
before(async () => {
  writeChatModel(base);
  writeFileSync(
    csv,
    ['Id,Customer asked,We replied', ...rows.map(([q, a], i) => `${i + 1},"${q}","${a}"`)].join('\n') + '\n',
  );
  const r = await build(join(tmp, 'ds'));
  assert.equal(r.code, 0, r.err.join('\n'));
  manifest = manifestOf(r);
});

test('a CSV dataset holds out whole conversations: records listed by line, seeded, never trained on', async () => {
  const held = manifest.heldOut!.records!;
  assert.ok(held.length >= 2 && held.length <= 8, JSON.stringify(held));
  assert.equal(manifest.documents.validation, held.length);
  assert.equal(manifest.documents.train + held.length, rows.length);
  assert.deepEqual(manifest.heldOut!.files, []);
  assert.deepEqual(manifest.csvColumns, { prompt: 'Customer asked', response: 'We replied' });
  for (const r of held) assert.ok(r.path === csv && r.line >= 2 && r.line <= rows.length + 1);
  // The same seed holds out the same conversations; another seed others.
  const again = manifestOf(await build(join(tmp, 'ds-again')));
  assert.deepEqual(
    again.heldOut!.records!.map((r) => r.line),
    held.map((r) => r.line),
  );
  const other = manifestOf(await build(join(tmp, 'ds-seed-7'), '--seed', '7'));
  assert.notDeepEqual(
    other.heldOut!.records!.map((r) => r.line),
    held.map((r) => r.line),
  );
});

test('eval on a chat dataset: held-out conversations’ loss base vs tuned, replies side by side, in the card', async () => {
  const run = join(tmp, 'run');
  const t = await cli(
    'train',
    '--model',
    base,
    '--data',
    join(tmp, 'ds'),
    '--mode',
    'full',
    '--steps',
    '80',
    '--lr',
    '0.01',
    '--warmup',
    '5',
    '--batch-tokens',
    '64',
    '--seq-len',
    '64',
    '--micro-batch-tokens',
    '64',
    '--eval-every',
    '0',
    '--checkpoint-every',
    '0',
    '--patience',
    '0',
    '--no-keep-best',
    '--out',
    run,
  );
  assert.equal(t.code, 0, t.err.join('\n'));
  const tuned = join(run, 'model');
  const r = await cli('eval', '--model', base, '--adapter', tuned, '--data', join(tmp, 'ds'), '--json');
  assert.equal(r.code, 0, r.err.join('\n'));
  const report = JSON.parse(r.out[0]) as EvalReport;
  const chat = report.chat!;
  const held = manifest.heldOut!.records!;
  assert.equal(chat.conversations, held.length);
  assert.match(chat.source, new RegExp(`^${held.length} held-out conversations of ds$`));
  // Random base weights score near ln(vocab); tuned on the other rows, the shared opening is learned.
  assert.ok(chat.tuned!.loss! < chat.base.loss! - 1, JSON.stringify([chat.base, chat.tuned]));
  assert.equal(chat.tuned!.tokens, chat.base.tokens);
  assert.deepEqual(
    chat.samples.map((s) => s.where),
    held.map((r) => `${csv}:${r.line}`),
  );
  for (const s of chat.samples) {
    const [q, a] = rows[Number(s.where!.split(':').at(-1)) - 2];
    assert.deepEqual([s.prompt, s.expected], [q, a]);
    assert.ok(s.tuned!.startsWith('Thanks for asking!'), JSON.stringify(s));
    assert.notEqual(s.base, s.tuned);
  }
  // The completion benchmark has no file to mask in a dataset of records, and says nothing about it.
  assert.equal(report.base.completion, null);
  assert.ok(!r.err.some((l) => /no span to mask/.test(l)), r.err.join('\n'));

  const text = await cli(
    'eval',
    '--model',
    base,
    '--adapter',
    tuned,
    '--data',
    join(tmp, 'ds'),
    '--samples',
    '2',
  );
  assert.equal(text.code, 0, text.err.join('\n'));
  assert.ok(
    text.out.some((l) => /^held-out conversations loss\s+\d+\.\d{3}\s+\d+\.\d{3}$/.test(l)),
    text.out.join('\n'),
  );
  assert.equal(text.out.filter((l) => l.startsWith('  tuned:    "Thanks for asking!')).length, 2);
  assert.match(text.out.at(-1)!, new RegExp(`held-out conversations of ds, seed 0`));

  const exported = join(tmp, 'exported');
  // A fully tuned model is exported from its own folder, where eval left eval.json.
  const e = await cli('export', '--model', tuned, '--out', exported);
  assert.equal(e.code, 0, e.err.join('\n'));
  const card = readFileSync(join(exported, 'README.md'), 'utf8');
  assert.match(card, /\| held-out conversations loss \| \d+\.\d{3} \(base model: \d+\.\d{3}\) \|/);
  assert.match(card, new RegExp(`${held.length} held-out conversations`));
});

test('a CSV column that is not there: one line naming the file, its columns and the flag', async () => {
  const r = await build(join(tmp, 'ds-bad'), '--prompt-column', 'Question');
  assert.equal(r.code, 2);
  assert.deepEqual(r.err, [
    `error: ${csv}: no prompt column "Question"; its columns are "Id", "Customer asked", "We replied"; choose one with --prompt-column NAME`,
  ]);
  const auto = await cli('dataset', 'build', '--from', csv, '--model', base, '--out', join(tmp, 'ds-auto'));
  assert.equal(auto.code, 2);
  assert.match(auto.err[0], /no prompt column \(looked for prompt, question, .*\); its columns are "Id", /);
  assert.match(auto.err[0], /choose one with --prompt-column NAME$/);
});
