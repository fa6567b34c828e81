// The samples document the editor opens after Evaluate: masked spans when the dataset has held-out
// files, and for a chat dataset each held-out prompt with the reply it had and both models' replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatFigures, EvalReport } from '../../src/eval/figures';
import { samplesMarkdown } from '../../src/eval/samplesMarkdown';

const figures = { validationLoss: 2, perplexity: 7.4, validationTokens: 100, completion: null };
const chat: ChatFigures = {
  source: '2 held-out conversations of faq',
  conversations: 2,
  base: { loss: 9.1, perplexity: 8955, tokens: 40 },
  tuned: { loss: 1.2, perplexity: 3.3, tokens: 40 },
  samples: [
    {
      where: '/ws/faq.csv:4',
      prompt: 'How do refunds work?',
      expected: 'Thanks! See refunds.',
      base: 'zq',
      tuned: 'Thanks! See returns.',
    },
    { where: '/ws/faq.csv:9', prompt: 'Use ``` fences?', expected: 'Yes.', base: '', tuned: 'Yes.' },
  ],
  masked: 0,
};
const report: EvalReport = {
  version: 1,
  createdAt: '2026-01-01T00:00:00Z',
  model: '/models/base',
  adapter: '/runs/r/model',
  dataset: { dir: '/ws/.localtune/datasets/faq', name: 'faq', heldOutFiles: 0, validationTokens: 40 },
  seed: 0,
  base: figures,
  tuned: figures,
  samples: [],
  dataSummary: '',
  seconds: 1,
  chat,
};

test('a chat dataset’s samples: each held-out prompt, the reply it had, base and tuned side by side', () => {
  const md = samplesMarkdown(report);
  assert.ok(!md.includes('Masked spans'), md);
  assert.ok(
    md.includes('Replies (greedy, secrets masked) to the last user turn of 2 held-out conversations of faq'),
  );
  const first = md.slice(md.indexOf('### 1. /ws/faq.csv:4'), md.indexOf('### 2.'));
  assert.deepEqual(
    first.split('\n').filter((l) => l && !l.startsWith('```')),
    [
      '### 1. /ws/faq.csv:4',
      'User:',
      'How do refunds work?',
      'The reply it had:',
      'Thanks! See refunds.',
      '**Base**:',
      'zq',
      '**Tuned**:',
      'Thanks! See returns.',
    ],
  );
  const second = md.slice(md.indexOf('### 2.'));
  assert.ok(second.includes('````\nUse ``` fences?\n````'), second);
  assert.ok(second.includes('**Base**:\n\n_(nothing shown)_'), second);
  // Without a tuned model: the base's replies alone.
  const baseOnly = samplesMarkdown({
    ...report,
    chat: { ...chat, tuned: null, samples: chat.samples.map((s) => ({ ...s, tuned: null })) },
  });
  assert.ok(!baseOnly.includes('**Tuned**'));
});
