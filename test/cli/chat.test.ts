// `localtune chat` in process on the tiny ChatML model: one conversation from a file as JSON, an
// interactive session over piped input that keeps the conversation (and /reset), a tuned secret
// masked in the streamed reply, and bad input as one line with exit code 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { writeChatModel } from '../../fixtures/tinyChat';
import { runCli } from '../../src/cli/main';
import { ChatModel } from '../../src/jobs/chatModel';
import { PLANTED_SECRET, SECRET_CHAT, tuneChatModel } from '../jobs/chatTune';
import { cli } from './capture';

const tmp = mkdtempSync(join(tmpdir(), 'lt-cli-chat-'));
const modelDir = join(tmp, 'chat');
const question = [{ role: 'user', content: 'Where are the tests?' }];

test.before(() => writeChatModel(modelDir));

async function session(argv: string[], input: string) {
  const out: string[] = [];
  const err: string[] = [];
  let written = '';
  const code = await runCli(argv, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    write: (t: string) => (written += t),
    input: Readable.from([input]),
  } as Parameters<typeof runCli>[1]);
  return { code, out, err, written };
}

test('--messages FILE --json answers the conversation once, as the model does', async () => {
  const file = join(tmp, 'q.json');
  writeFileSync(file, JSON.stringify({ messages: question }));
  const r = await cli(
    'chat',
    '--model',
    modelDir,
    '--messages',
    file,
    '--json',
    '--max-tokens',
    '8',
    '--system',
    'Be brief.',
  );
  assert.equal(r.code, 0, r.err.join('\n'));
  const line = JSON.parse(r.out[0]);
  const model = await ChatModel.load({ modelDir }, { threads: 1 });
  const expected = await model.reply([{ role: 'system', content: 'Be brief.' }, ...question], {
    maxTokens: 8,
  });
  assert.equal(line.reply, expected.text);
  assert.equal(line.chat, true);
  assert.equal(line.tokens, 8);
  assert.equal(line.masked, 0);
});

test('interactive: each line is a turn of one conversation; /reset starts over', async () => {
  const r = await session(
    ['chat', '--model', modelDir, '--max-tokens', '6'],
    'Hello\nAnd then?\n/reset\nHello\n\n',
  );
  assert.equal(r.code, 0, r.err.join('\n'));
  const model = await ChatModel.load({ modelDir }, { threads: 1 });
  const first = await model.reply([{ role: 'user', content: 'Hello' }], { maxTokens: 6 });
  const second = await model.reply(
    [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: first.text },
      { role: 'user', content: 'And then?' },
    ],
    { maxTokens: 6 },
  );
  assert.equal(r.written, `> ${first.text}\n> ${second.text}\n> (new conversation)\n> ${first.text}\n> \n`);
  assert.match(r.err[0], /chat \(its template\)/);
  assert.equal(r.err.filter((l) => /6 tokens \(max_tokens\), [\d.]+ tokens\/s/.test(l)).length, 3);
});

test('a tuned secret is masked in the streamed reply and counted', async () => {
  const tuned = await tuneChatModel(modelDir, join(tmp, 'secret-run'), [SECRET_CHAT]);
  const r = await session(['chat', '--model', tuned, '--max-tokens', '48'], `${SECRET_CHAT[0].content}\n`);
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.ok(!r.written.includes(PLANTED_SECRET), r.written);
  assert.match(r.written, /The deploy token is <GITHUB_TOKEN>\n/);
  assert.match(r.err.join('\n'), /1 secret\(s\) masked/);
});

test('bad input: one line, exit code 2', async () => {
  const bad = join(tmp, 'bad.json');
  writeFileSync(bad, JSON.stringify([{ role: 'user' }]));
  const ends = join(tmp, 'ends.json');
  writeFileSync(ends, JSON.stringify([...question, { role: 'assistant', content: 'x' }]));
  for (const [argv, message] of [
    [['chat'], /chat needs --model/],
    [
      ['chat', '--model', modelDir, '--messages', bad],
      /bad\.json: message 1 needs a string "role" and a string "content"/,
    ],
    [['chat', '--model', modelDir, '--messages', ends], /ends with an assistant message/],
    [['chat', '--model', modelDir, '--json'], /--json answers one conversation: give --messages FILE/],
    [['chat', '--model', modelDir, '--top-p', '0', '--messages', bad], /--top-p must be in \(0, 1\]/],
  ] as const) {
    const r = await cli(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.err.length, 1);
    assert.match(r.err[0], message);
  }
});
