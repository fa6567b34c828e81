// Chat data from what people have: ShareGPT `conversations` records and CSV/TSV prompt/response
// tables, through the real chat template and the real source reader (src/data/sources.ts), with
// errors as file:line.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChatTemplate } from '../../src/data/formats/chat';
import { csvConversations } from '../../src/data/formats/csv';
import { OptionError } from '../../src/engine/errors';
import { parseRecord } from '../../src/data/formats/jsonl';
import { fileSamples, processFile, sourceKind } from '../../src/data/sources';
import { CHATML_TEMPLATE } from './helpers';

const chatml = new ChatTemplate(CHATML_TEMPLATE);
const tmp = mkdtempSync(join(tmpdir(), 'lt-formats-chat-'));
const learned = (sample: { text?: string; loss: boolean }[]) =>
  sample.filter((s) => s.loss).map((s) => s.text);

test('ShareGPT conversations read as messages: human → user, gpt → assistant', () => {
  const r = parseRecord(
    JSON.stringify({
      conversations: [
        { from: 'system', value: 'Be brief.' },
        { from: 'human', value: 'Hi' },
        { from: 'gpt', value: 'Hello!' },
      ],
    }),
    chatml,
  );
  assert.ok('sample' in r, JSON.stringify(r));
  assert.deepEqual(learned(r.sample as never), ['Hello!<|im_end|>\n']);
  assert.equal(
    r.sample.map((s) => ('text' in s ? s.text : '')).join(''),
    '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n',
  );
  assert.deepEqual(parseRecord('{"conversations":[{"from":"robot","value":"x"}]}', chatml), {
    error: 'conversation turn 1: unknown speaker "robot" (use human, gpt or system)',
  });
  assert.deepEqual(parseRecord('{"conversations":[{"from":"human"}]}', chatml), {
    error: 'conversation turn 1 needs a string "from" and a string "value"',
  });
  assert.match(
    (parseRecord('{"conversations":[{"from":"human","value":"x"}]}', chatml) as { error: string }).error,
    /no "assistant"/,
  );
});

test('CSV rows become conversations; quoted cells with line breaks keep the row’s first line', () => {
  const csv =
    'Question,Answer,Notes\n"How do I\nreset my password?","Use Settings > Account.",x\n\nWhere are logs?,In ./logs,\nEmpty answer,,\n';
  const rows = csvConversations(csv, 'faq.csv');
  assert.deepEqual(rows, [
    {
      line: 2,
      messages: [
        { role: 'user', content: 'How do I\nreset my password?' },
        { role: 'assistant', content: 'Use Settings > Account.' },
      ],
    },
    {
      line: 5,
      messages: [
        { role: 'user', content: 'Where are logs?' },
        { role: 'assistant', content: 'In ./logs' },
      ],
    },
    { line: 6, error: 'empty "Answer", so there is nothing to learn' },
  ]);
  const tsv = 'system\tticket\tresolution\nYou are support.\tPrinter jams\tOpen tray 2.\n';
  assert.deepEqual(csvConversations(tsv, 'tickets.tsv'), [
    {
      line: 2,
      messages: [
        { role: 'system', content: 'You are support.' },
        { role: 'user', content: 'Printer jams' },
        { role: 'assistant', content: 'Open tray 2.' },
      ],
    },
  ]);
  // Chosen columns win over the usual names; a missing one names the header.
  assert.equal(
    (
      csvConversations('a,b\nx,y\n', 'f.csv', { prompt: 'b', response: 'a' })[0] as {
        messages: { content: string }[];
      }
    ).messages[0].content,
    'y',
  );
  // A column not found is the user's to choose: the error names the file, its columns and the option.
  assert.throws(
    () => csvConversations('title,body\nx,y\n', 'f.csv'),
    (e: OptionError) =>
      e instanceof OptionError &&
      e.options[0] === 'promptColumn' &&
      e.message ===
        'f.csv: no prompt column (looked for prompt, question, input, instruction, query, user, customer, ticket, message); its columns are "title", "body"; choose one with promptColumn NAME',
  );
  assert.throws(
    () => csvConversations('question,body\nx,y\n', 'f.csv', { response: 'Body ' }),
    /: f.csv: no response column "Body "; its columns are "question", "body"; choose one with responseColumn NAME$/,
  );
  // Chosen names are matched without case; a system column is optional unless chosen.
  assert.deepEqual(
    csvConversations('Q,A,Sys\nx,y,be brief\n', 'f.csv', { prompt: 'q', response: 'a', system: 'SYS' }),
    [
      {
        line: 2,
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'x' },
          { role: 'assistant', content: 'y' },
        ],
      },
    ],
  );
  assert.throws(
    () => csvConversations('question,answer\nx,y\n', 'f.csv', { system: 'persona' }),
    /no system column "persona"/,
  );
  assert.match(
    (csvConversations('q,a\n"open,1\n', 'f.csv')[0] as { error: string }).error,
    /not valid CSV \(Quote Not Closed/,
  );
});

test('CSV and TSV files are record sources: one document per row, warnings as file:line, secrets scrubbed', () => {
  assert.equal(sourceKind('faq.csv'), 'jsonl');
  assert.equal(sourceKind('tickets.TSV'), 'jsonl');
  const path = join(tmp, 'faq.csv');
  writeFileSync(
    path,
    'prompt,response\nWhat is the key?,It is ghp_Zx8Qw2Lm5Rt7Yu1Io3Pa6Sd9Fg4Hj0Kl2Vb5\nbad row,\n',
  );
  const warnings: string[] = [];
  const docs = [...fileSamples(path, { chat: chatml, scrub: true, onWarning: (w) => warnings.push(w) })];
  assert.equal(docs.length, 1);
  assert.equal(docs[0].line, 2);
  assert.deepEqual(learned(docs[0].sample as never), ['It is <GITHUB_TOKEN><|im_end|>\n']);
  assert.deepEqual(warnings, [`${path}:3: empty "response", so there is nothing to learn`]);
  // Without a chat template: the prompt on its own line, loss on the response.
  const plain = processFile(path, 'jsonl', Buffer.from('question,answer\nHi,Hello\n'), {
    chat: null,
    scrub: false,
  });
  assert.ok('docs' in plain);
  assert.deepEqual(plain.docs[0].sample, [
    { text: 'Hi\n', loss: false },
    { text: 'Hello', loss: true },
  ]);
});
