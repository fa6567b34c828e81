/// <reference types="mocha" />
// The Playground and the editor's chat in a real extension host, on a tiny chat model tuned (in a
// child process) to answer an FAQ line and to say a fake GitHub token: opened from the run, the
// base and tuned models answer side by side, streamed; a second turn continues the conversation
// and the tuned model's secret shows masked, with the workspace's counter moved; the conversation
// is saved in the messages format and reopened; Stop ends replies while they stream; and the tuned
// model answers through vscode.lm.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { PlaygroundView } from '../../../webview/protocol';
import { screenshot, waitFor } from './helpers';
import { afterReload, localtune } from './localtuneHelpers';

const SECRET = 'ghp_' + 'Zx8Qw2Lm5Rt7Yu1Io3Pa6Sd9Fg4Hj0Kl2Vb5';
const state = () =>
  vscode.commands.executeCommand<PlaygroundView | undefined>('localtune.playground.debugState');

/** Asks, watching the state while it streams; returns the states seen and the final one. */
async function ask(text: string): Promise<{ seen: PlaygroundView[]; done: PlaygroundView }> {
  const seen: PlaygroundView[] = [];
  let asking = true;
  const asked = Promise.resolve(vscode.commands.executeCommand('localtune.playground.ask', text)).finally(
    () => (asking = false),
  );
  while (asking) {
    const s = await state();
    if (s) seen.push(s);
    await new Promise((r) => setTimeout(r, 15));
  }
  await asked;
  return { seen, done: (await state())! };
}

if (!afterReload())
  describe('LocalTune Playground and chat', function () {
    const ws = process.env.LOCALTUNE_E2E_WORKSPACE ?? vscode.workspace.workspaceFolders![0].uri.fsPath;
    const runDir = join(ws, '.localtune', 'runs', 'e2e-chat');

    before(async function () {
      this.timeout(300_000);
      const repo = resolve(__dirname, '../../../..');
      await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'test/jobs/chatTune.ts', join(ws, '.localtune', 'e2e-chat-base'), runDir],
        { cwd: repo, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', OMP_NUM_THREADS: '1' } },
      );
      (await localtune()).runs.refresh();
    });

    it('opens from a run: base and tuned answer side by side, streamed, with tokens/s', async function () {
      this.timeout(180_000);
      assert.ok(await vscode.commands.executeCommand('localtune.openPlayground', runDir));
      const loaded = (await waitFor(
        'both models loaded',
        async () => {
          const s = await state();
          return s?.models.base?.state === 'ready' && s.models.tuned?.state === 'ready' ? s : undefined;
        },
        120_000,
      ))!;
      assert.equal(loaded.chat, true, 'the ChatML template makes it a chat');
      assert.equal(loaded.models.tuned!.label, 'FAQ chat');
      const { seen, done } = await ask('What does the demo project do?');
      const [turn] = done.turns;
      assert.equal(turn.replies.tuned!.text, 'It formats dates and parses durations.');
      assert.equal(turn.replies.tuned!.stop, 'eos');
      assert.ok(turn.replies.base!.text.length > 0);
      assert.notEqual(turn.replies.base!.text, turn.replies.tuned!.text);
      for (const side of ['base', 'tuned'] as const) {
        assert.ok(turn.replies[side]!.done && turn.replies[side]!.tokens! > 0);
        assert.ok(turn.replies[side]!.tokensPerSecond! > 0, `${side} tokens/s`);
      }
      const partial = seen.find(
        (s) => s.turns[0]?.replies.base && !s.turns[0].replies.base.done && s.turns[0].replies.base.text,
      );
      assert.ok(partial, `saw a reply while it streamed (${seen.length} states)`);
      assert.ok(turn.replies.base!.text.startsWith(partial.turns[0].replies.base!.text));
      await new Promise((r) => setTimeout(r, 500));
      await screenshot('playground-side-by-side');
    });

    it('continues the chat; the tuned secret shows masked and the counter moves', async function () {
      this.timeout(120_000);
      const before = (await state())!.maskedTotal;
      const { done } = await ask('What is the deploy token?');
      assert.equal(done.turns.length, 2);
      const tuned = done.turns[1].replies.tuned!;
      assert.equal(tuned.text, 'The deploy token is <GITHUB_TOKEN>');
      assert.equal(tuned.masked, 1);
      assert.equal(done.maskedTotal, before + 1);
      assert.ok(!JSON.stringify(done).includes(SECRET.slice(4)), 'the secret never reaches the page');
      await new Promise((r) => setTimeout(r, 500));
      await screenshot('playground-masked-secret');
      // The dashboard's Completions section shows the workspace's count too.
      await vscode.commands.executeCommand('localtune.showDashboard', runDir);
      await new Promise((r) => setTimeout(r, 2000));
      await screenshot('playground-dashboard-masked-count');
    });

    it('saves the conversation as a messages record and reopens it', async function () {
      this.timeout(60_000);
      const before = (await state())!;
      const file = await vscode.commands.executeCommand<string>('localtune.playground.save', 'e2e-chat');
      assert.equal(file, join(ws, '.localtune', 'conversations', 'e2e-chat.jsonl'));
      const line = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]);
      assert.deepEqual(line.messages, [
        { role: 'user', content: 'What does the demo project do?' },
        { role: 'assistant', content: 'It formats dates and parses durations.' },
        { role: 'user', content: 'What is the deploy token?' },
        { role: 'assistant', content: 'The deploy token is <GITHUB_TOKEN>' },
      ]);
      await vscode.commands.executeCommand('localtune.playground.clear');
      assert.equal((await state())!.turns.length, 0);
      await vscode.commands.executeCommand('localtune.playground.open', file);
      const reopened = (await state())!;
      assert.deepEqual(
        reopened.turns.map((t) => [t.user, t.replies.base?.text, t.replies.tuned?.text]),
        before.turns.map((t) => [t.user, t.replies.base?.text, t.replies.tuned?.text]),
      );
      // The next message continues the reopened conversation.
      const { done } = await ask('Thanks');
      assert.equal(done.turns.length, 3);
      assert.ok(existsSync(file));
    });

    it('Stop ends the replies while they stream', async function () {
      this.timeout(120_000);
      // A new conversation: the base model (random weights) then talks until max tokens, unstopped.
      await vscode.commands.executeCommand('localtune.playground.clear');
      const asked = Promise.resolve(
        vscode.commands.executeCommand('localtune.playground.ask', 'Tell me everything about the project.'),
      );
      // Stop as soon as the turn is there (polled tightly: the base model writes ~1000 tokens/s).
      const deadline = Date.now() + 30_000;
      while ((await state())?.turns.length !== 1) {
        if (Date.now() > deadline) throw new Error('the turn did not start');
        await new Promise((r) => setTimeout(r, 2));
      }
      await vscode.commands.executeCommand('localtune.playground.stop');
      await asked;
      const done = (await state())!;
      const base = done.turns[0].replies.base!;
      assert.ok(base.done, 'the reply is closed');
      assert.notEqual(base.stop, 'max_tokens', JSON.stringify(base));
      assert.ok(
        (base.tokens ?? 0) < done.settings.maxTokens,
        `${base.tokens} of ${done.settings.maxTokens} tokens`,
      );
      assert.equal(done.busy, false);
    });

    it('the tuned model answers through vscode.lm, streamed, with its tokenizer counting', async function () {
      this.timeout(120_000);
      const models = (await waitFor('the localtune chat model', async () => {
        const found = await vscode.lm.selectChatModels({ vendor: 'localtune' });
        return found.length > 0 ? found : undefined;
      }))!;
      const model = models.find((m) => m.id === 'e2e-chat');
      assert.ok(model, `models: ${models.map((m) => m.id).join(', ')}`);
      assert.equal(model.name, 'FAQ chat');
      const response = await model.sendRequest(
        [vscode.LanguageModelChatMessage.User('What does the demo project do?')],
        {},
        new vscode.CancellationTokenSource().token,
      );
      const pieces: string[] = [];
      for await (const piece of response.text) pieces.push(piece);
      assert.equal(pieces.join(''), 'It formats dates and parses durations.');
      const secret = await model.sendRequest([
        vscode.LanguageModelChatMessage.User('What is the deploy token?'),
      ]);
      let said = '';
      for await (const piece of secret.text) said += piece;
      assert.equal(said, 'The deploy token is <GITHUB_TOKEN>');
      assert.ok((await model.countTokens('hello world')) === 2);
    });
  });
