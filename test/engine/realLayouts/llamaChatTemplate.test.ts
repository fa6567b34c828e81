// Llama-3.2-Instruct's real chat template (fixtures/hub/meta-llama--Llama-3.2-1B-Instruct/
// chat_template.jinja: system header with the knowledge and today dates, tools as JSON with indent 4,
// |trim on every turn) rendered by @huggingface/jinja, through ChatTemplate (the path datasets and the
// Playground take) and directly for the tool-calling parts, against Jinja2 set up as transformers'
// apply_chat_template sets it up (jinja_reference.py). Both define strftime_now from the clock, so
// today's date is written as <today> before comparing. The reference's renderings are recorded in
// llamaChatTemplate.expected.json, so the comparison runs where Python's jinja2 is missing; where it
// is there, a fresh rendering must equal the recording. WRITE_EXPECTED=1 rewrites the recording.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { recordedDir } from '../../../fixtures/hubModels';
import { ChatTemplate, type ChatMessage } from '../../../src/data/formats/chat';
import { PYTHON } from '../../helpers/torchReference';

const SOURCE = readFileSync(
  join(recordedDir('meta-llama/Llama-3.2-1B-Instruct'), 'chat_template.jinja'),
  'utf8',
);
const EXPECTED = join(__dirname, 'llamaChatTemplate.expected.json');
const SPECIAL = { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>' };

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather now at a place.',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', description: 'City name, e.g. "Zürich"' } },
      required: ['city'],
    },
  },
};

const CHAT: ChatMessage[] = [
  { role: 'system', content: 'You answer in one line.' },
  { role: 'user', content: 'What does `git stash` do?' },
  { role: 'assistant', content: 'It shelves uncommitted changes.' },
  { role: 'user', content: '  And `git stash pop`?\n' },
];

/** What ChatTemplate passes: the messages, the generation prompt flag and the special tokens. */
const viaChatTemplate = [
  { ...SPECIAL, messages: CHAT, add_generation_prompt: true },
  { ...SPECIAL, messages: CHAT.slice(1, 3), add_generation_prompt: false },
];

/** The template's tool-calling and date parts, which ChatTemplate does not reach. */
const direct: Record<string, unknown>[] = [
  {
    ...SPECIAL,
    messages: CHAT.slice(0, 2),
    tools: [WEATHER_TOOL],
    date_string: '01 Mar 2025',
    add_generation_prompt: true,
  },
  {
    ...SPECIAL,
    messages: CHAT.slice(0, 2),
    tools: [WEATHER_TOOL],
    tools_in_user_message: false,
    add_generation_prompt: true,
  },
  {
    ...SPECIAL,
    messages: [
      { role: 'user', content: 'Weather in Zürich?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Zürich' } } }],
      },
      { role: 'tool', content: { temperature: 4, sky: 'overcast' } },
    ],
    add_generation_prompt: true,
  },
];

/** ChatTemplate as a model folder gives it: the template inside tokenizer_config.json. */
function chatTemplate(): ChatTemplate {
  const dir = mkdtempSync(join(tmpdir(), 'lt-llama-chat-'));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...SPECIAL, chat_template: SOURCE }));
  const chat = ChatTemplate.fromModelDir(dir);
  assert.ok(chat, 'the template is read from tokenizer_config.json');
  return chat;
}

function ours(): string[] {
  const chat = chatTemplate();
  const template = new Template(SOURCE);
  return [
    ...viaChatTemplate.map((c) => chat.render(c.messages, c.add_generation_prompt)),
    ...direct.map((c) => template.render(c)),
  ].map(withoutToday);
}

/** strftime_now("%d %b %Y") as both renderers give it, e.g. "06 Dec 2026", replaced by <today>. */
function withoutToday(text: string): string {
  const d = new Date();
  const month = d.toLocaleString('en-US', { month: 'short' });
  return text.replaceAll(`${String(d.getDate()).padStart(2, '0')} ${month} ${d.getFullYear()}`, '<today>');
}

/** Jinja2's renderings, or null where /usr/bin/python3 has no jinja2. */
function reference(): string[] | null {
  if (spawnSync(PYTHON, ['-c', 'import jinja2']).status !== 0) return null;
  const run = spawnSync(PYTHON, [join(__dirname, 'jinja_reference.py')], {
    input: JSON.stringify({ template: SOURCE, cases: [...viaChatTemplate, ...direct] }),
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return (JSON.parse(run.stdout) as string[]).map(withoutToday);
}

test('Llama-3.2-Instruct chat template: @huggingface/jinja renders what Jinja2 renders for transformers', async (t) => {
  const fresh = reference();
  if (process.env.WRITE_EXPECTED) {
    assert.ok(fresh, 'WRITE_EXPECTED needs jinja2 (apt-get install python3-jinja2)');
    writeFileSync(EXPECTED, JSON.stringify(fresh, null, 2) + '\n');
  }
  const expected = JSON.parse(readFileSync(EXPECTED, 'utf8')) as string[];
  const rendered = ours();

  await t.test('every case renders exactly as the recorded reference', () => {
    assert.equal(rendered.length, expected.length);
    for (const [i, text] of rendered.entries()) assert.equal(text, expected[i], `case ${i + 1}`);
  });

  await t.test('the recording is what Jinja2 renders now', (s) => {
    if (!fresh) return s.skip('no jinja2 for /usr/bin/python3 (apt-get install python3-jinja2)');
    assert.deepEqual(fresh, expected);
  });

  await t.test('the rendering has Llama 3.2 prompt format', () => {
    assert.equal(
      rendered[0],
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n' +
        'Cutting Knowledge Date: December 2023\nToday Date: <today>\n\n' +
        'You answer in one line.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nWhat does `git stash` do?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\nIt shelves uncommitted changes.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nAnd `git stash pop`?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    assert.match(rendered[2], /Environment: ipython\n.*Today Date: 01 Mar 2025\n\n/s);
    assert.match(rendered[2], /\{\n {4}"type": "function",\n {4}"function": \{\n {8}"name": "get_weather"/);
    assert.match(rendered[4], /\{"name": "get_weather", "parameters": \{"city": "Zürich"\}\}<\|eot_id\|>/);
  });

  await t.test('training learns each assistant turn with its <|eot_id|>, nothing else', () => {
    const learned = chatTemplate()
      .toSample([...CHAT, { role: 'assistant', content: 'It re-applies them.' }])
      .filter((s) => s.loss);
    assert.deepEqual(
      learned.map((s) => ('text' in s ? s.text : s.ids)),
      ['It shelves uncommitted changes.<|eot_id|>', 'It re-applies them.<|eot_id|>'],
    );
  });
});
