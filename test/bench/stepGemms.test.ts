// The step's product list (bench/stepGemms.ts) against the peers' FLOPs formula (trainShapes.ts):
// two independent counts of one step that the GEMM-only bound and GFLOP/s both rest on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BENCH_SHAPES, flopsPerToken } from '../../bench/trainShapes';
import { gemmFlops, stepGemms, type StepConfig } from '../../bench/stepGemms';

const TOKENS = 2048;

for (const shape of Object.values(BENCH_SHAPES)) {
  const seq = Math.min(256, shape.ctx);
  const configs: StepConfig[] = [
    { seq, tokensPerStep: TOKENS, microTokens: 1024, mode: 'full', r: 8, targets: [], baseDtype: 'fp32' },
    ...shape.loraTargetSets.flatMap((targets) =>
      (['fp32', 'int8'] as const).map((baseDtype): StepConfig => ({
        seq,
        tokensPerStep: TOKENS,
        microTokens: 512,
        mode: 'lora',
        r: 8,
        targets,
        baseDtype,
      })),
    ),
  ];
  for (const c of configs) {
    const name = `${shape.name} ${c.mode} ${c.targets.join(',')} ${c.baseDtype}`;
    test(`${name}: the products' FLOPs are the peers' formula's`, () => {
      const gemms = stepGemms(shape, c);
      const sum = gemms.reduce((a, g) => a + gemmFlops(g), 0);
      assert.equal(sum, flopsPerToken(shape, seq, c.mode, c.r, c.targets) * TOKENS);
    });
    test(`${name}: int8 exactly where our int8 base runs it`, () => {
      for (const g of stepGemms(shape, c)) {
        const frozen = c.mode === 'lora' && !/lora|attention/.test(g.name);
        const int8 = c.baseDtype === 'int8' && frozen && g.name !== 'lm_head input gradient';
        assert.equal(g.dtype, int8 ? 'int8' : 'fp32', g.name);
        assert.equal(g.constantB, frozen, g.name);
      }
    });
  }
}

test('a micro-batch that does not divide the step is refused', () => {
  const c: StepConfig = {
    seq: 128,
    tokensPerStep: 2048,
    microTokens: 768,
    mode: 'full',
    r: 8,
    targets: [],
    baseDtype: 'fp32',
  };
  assert.throws(() => stepGemms(BENCH_SHAPES.tiny, c), /do not divide/);
});
