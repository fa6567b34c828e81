// Which text of a templated conversation carries loss: exactly what the model's chat template
// emitted for each assistant turn. Exported conversations often have answers that start or end with
// whitespace (a trailing newline, an indented first line); templates that trim them (Llama 3.x
// renders `content | trim`) must not get such records rejected, and templates that keep them must
// keep them in the loss. Real templates: the recorded Llama-3.2-Instruct one and the tiny chat
// model's ChatML.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { recordedDir } from '../../fixtures/hubModels';
import { CHATML_TEMPLATE } from '../../fixtures/tinyChat';
import { ChatRecordError, ChatTemplate, type ChatMessage } from '../../src/data/formats/chat';

const llama = new ChatTemplate(
  readFileSync(join(recordedDir('meta-llama/Llama-3.2-1B-Instruct'), 'chat_template.jinja'), 'utf8'),
  { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>' },
);
const chatml = new ChatTemplate(CHATML_TEMPLATE);

const CHAT: ChatMessage[] = [
  { role: 'system', content: 'You answer in one line.\n' },
  { role: 'user', content: 'What does `git stash` do?' },
  { role: 'assistant', content: 'It shelves uncommitted changes.\n' },
  { role: 'user', content: '  And `git stash pop`?\n' },
  { role: 'assistant', content: '\n\n  It re-applies them. \t\n' },
];

/** The learned texts, after checking that the segments put together are the whole rendering. */
function learned(chat: ChatTemplate, messages: ChatMessage[]): string[] {
  const sample = chat.toSample(messages);
  const texts = sample.map((s) => ('text' in s ? s.text : ''));
  assert.equal(texts.join(''), chat.render(messages, false));
  return sample.filter((s) => s.loss).map((s) => ('text' in s ? s.text : ''));
}

test('Llama 3.2 trims answers: whitespace around them is accepted, the loss is the trimmed answer and <|eot_id|>', () => {
  const rendered = llama.render(CHAT, false);
  assert.ok(rendered.includes('<|end_header_id|>\n\nIt re-applies them.<|eot_id|>'), 'the template trims');
  assert.deepEqual(learned(llama, CHAT), [
    'It shelves uncommitted changes.<|eot_id|>',
    'It re-applies them.<|eot_id|>',
  ]);
  // An answer of whitespace alone renders as an empty turn: only its end-of-turn is learned.
  assert.deepEqual(learned(llama, [...CHAT.slice(0, 4), { role: 'assistant', content: ' \n' }]), [
    'It shelves uncommitted changes.<|eot_id|>',
    '<|eot_id|>',
  ]);
});

test('ChatML keeps answers as written: their whitespace is learned with <|im_end|>', () => {
  assert.deepEqual(learned(chatml, CHAT), [
    'It shelves uncommitted changes.\n<|im_end|>\n',
    '\n\n  It re-applies them. \t\n<|im_end|>\n',
  ]);
});

/** Renders earlier answers without their reasoning, as Qwen3 does, so history is not a prefix. */
const REASONING_TEMPLATE =
  "{%- for m in messages -%}{%- set content = m.content | trim -%}{%- if m.role == 'assistant' and not loop.last -%}" +
  "{%- set content = content.split('</think>')[-1] | trim -%}{%- endif -%}" +
  "{{- '<|' + m.role + '|>\\n' + content + '<|end|>\\n' -}}{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}";

test('a template whose history is not a prefix: the answer is found where the template put it, as it rendered it', () => {
  const chat = new ChatTemplate(REASONING_TEMPLATE);
  const messages: ChatMessage[] = [
    { role: 'user', content: 'Answer with OK' },
    { role: 'assistant', content: '<think>easy</think>\n OK \n' },
    { role: 'user', content: 'Again' },
    { role: 'assistant', content: '  OK\n' },
  ];
  const sample = chat.toSample(messages);
  assert.deepEqual(sample.slice(0, 2), [
    { text: '<|user|>\nAnswer with OK<|end|>\n<|assistant|>\n', loss: false },
    { text: 'OK', loss: true },
  ]);
  assert.deepEqual(learned(chat, messages), ['OK', 'OK<|end|>\n']);
});

test('a template that drops a turn still rejects the record, naming the turn', () => {
  // A template that knows the roles user and model (as Gemma's) renders no "assistant" turn.
  const dropping = new ChatTemplate(
    "{% for m in messages %}{% if m.role == 'user' or m.role == 'model' %}{{ '<' + m.role + '>' + m.content | trim + '\\n' }}{% endif %}{% endfor %}",
  );
  assert.throws(
    () =>
      dropping.toSample([
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: ' Hello there.\n' },
      ]),
    (e: Error) =>
      e instanceof ChatRecordError && e.message === 'assistant turn 2 does not appear in the rendered chat',
  );
  // Whitespace alone does not "appear" anywhere it happens to match.
  assert.throws(
    () =>
      dropping.toSample([
        { role: 'user', content: 'Hi there' },
        { role: 'assistant', content: ' ' },
      ]),
    /assistant turn 2 does not appear in the rendered chat/,
  );
});
