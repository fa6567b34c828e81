/** `localtune score`: log-probabilities of each next token under a model (and adapter). */
import { UserError } from '../engine/errors';
import { loadTokenizer } from '../engine/tokenizer/tokenizer';
import { loadModel } from '../engine/models';
import { loadAdapterFor } from '../engine/train/adapterFit';
import { scoreIds } from '../engine/train/score';
import type { CliIo, CommandArgs } from './command';
import { checkModel, command, required, resolveModel, stringFlags } from './command';

const HELP = `localtune score --model DIR [--adapter DIR] (--text STR | --ids 1,2,3) [--json]
  Prints {"ids":[...],"logprobs":[...]} where logprobs[i] = log P(ids[i+1] | ids[0..i]).`;

const SCORE_FLAGS = stringFlags('model adapter text ids');

export const runScoreCommand = command({ help: HELP, flags: SCORE_FLAGS }, scoreCommand);

async function scoreCommand({ values }: CommandArgs<typeof SCORE_FLAGS>, io: CliIo) {
  const modelArg = required(values.model, 'score needs --model DIR');
  if ((values.text === undefined) === (values.ids === undefined))
    throw new UserError('score needs exactly one of --text or --ids');
  const { modelDir } = await resolveModel(modelArg, io);
  checkModel(modelDir);
  const model = loadModel(modelDir);
  const ids =
    values.ids !== undefined
      ? values.ids.split(',').map((s) => {
          const n = s.trim() === '' ? NaN : Number(s);
          if (!Number.isInteger(n)) throw new UserError(`--ids: "${s}" is not a token id`);
          return n;
        })
      : await textIds(modelDir, values.text!);
  const adapter = values.adapter ? loadAdapterFor(model, values.adapter) : undefined;
  const logprobs = await scoreIds(model, ids, { adapter });
  const bad = logprobs.find((p) => !Number.isFinite(p));
  if (bad !== undefined)
    throw new UserError(
      `${modelDir}: the model's log-probabilities came out ${bad}: its weights${values.adapter ? " (or the adapter's)" : ''} hold NaN or infinite values, or overflow`,
    );
  if (values.json) io.out(JSON.stringify({ ids, logprobs }));
  else {
    const total = logprobs.reduce((a, b) => a + b, 0);
    io.out(
      `${ids.length} tokens, total log-probability ${total.toFixed(3)}, perplexity ${Math.exp(-total / logprobs.length).toFixed(3)}`,
    );
  }
  return 0;
}

/** The text as transformers' tokenizer encodes it: its prefix (a BOS where the config adds one), then the text. */
async function textIds(modelDir: string, text: string): Promise<number[]> {
  const tokenizer = await loadTokenizer(modelDir);
  return [...tokenizer.prefixIds, ...tokenizer.encode(text)];
}
