// The machine line every benchmark prints (bench/trainShapes.ts' cpuIsa): a VM's bare model name
// ("AMD EPYC") hides its generation, so vendor, family and model number come with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuIsa } from '../../bench/trainShapes';

// The head of /proc/cpuinfo on two build machines (Zen 4 here; a Sapphire Rapids Xeon), flags cut.
const ZEN4 = `processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
stepping\t: 1
flags\t\t: fpu vme avx2 fma avx512f avx512dq avx512bw avx512vl avx512_bf16 avx512_vnni avx512_bitalg
`;
const SAPPHIRE_RAPIDS = `processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
stepping\t: 8
flags\t\t: fpu avx2 fma avx512f avx512bw avx512_vnni avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8
`;

test('a bare model name comes with vendor, family and model number', () => {
  assert.deepEqual(cpuIsa(ZEN4), {
    model: 'AMD EPYC',
    id: 'AuthenticAMD family 25 model 17',
    flags: ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx512_bf16'],
  });
});

test('AMX and the full model name are read on Intel', () => {
  const isa = cpuIsa(SAPPHIRE_RAPIDS);
  assert.equal(isa.model, 'Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz');
  assert.equal(isa.id, 'GenuineIntel family 6 model 143');
  assert.deepEqual(
    isa.flags.filter((f) => f.startsWith('amx')),
    ['amx_tile', 'amx_bf16', 'amx_int8'],
  );
});

test('without the identifying fields the id is null, not a guess', () => {
  assert.deepEqual(cpuIsa('model name\t: Some CPU\nflags\t: avx2\n'), {
    model: 'Some CPU',
    id: null,
    flags: ['avx2'],
  });
});
