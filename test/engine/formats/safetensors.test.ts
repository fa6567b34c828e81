import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../../src/engine/errors';
import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  SafetensorsReader,
  writeSafetensors,
  type WritableTensor,
} from '../../../src/engine/formats/safetensors';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'localtune-st-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Builds a safetensors file by hand, byte for byte, from a header object and the data bytes. */
function handMade(
  path: string,
  header: unknown,
  data: Uint8Array | number[],
  opts: { rawHeader?: string } = {},
) {
  const json = Buffer.from(opts.rawHeader ?? JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json, Buffer.from(data)]));
}

function throwsUser(fn: () => unknown, ...parts: (string | RegExp)[]) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected UserError, got ${err}`);
    assert.ok(!err.message.includes('\n'), 'message must be one line');
    for (const p of parts) {
      if (typeof p === 'string') assert.ok(err.message.includes(p), `"${err.message}" lacks "${p}"`);
      else assert.match(err.message, p);
    }
    return true;
  });
}

test('round trip of every writable dtype, with metadata', (t) => {
  const path = join(tempDir(t), 'all.safetensors');
  const tensors: Record<string, WritableTensor> = {
    f32: { dtype: 'F32', shape: [2, 3], data: new Float32Array([1.5, -2, 3.25, 0, -0, 1e-30]) },
    f16bits: { dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xc000, 0x0001]) },
    f16vals: { dtype: 'F16', shape: [2], data: new Float32Array([0.5, -65504]) },
    bf16bits: { dtype: 'BF16', shape: [2], data: new Uint16Array([0x3f80, 0xc040]) },
    bf16vals: { dtype: 'BF16', shape: [1, 2], data: new Float32Array([2, -0.25]) },
    i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 50256n]) },
    i32: { dtype: 'I32', shape: [2, 1], data: new Int32Array([-7, 2 ** 31 - 1]) },
    u8: { dtype: 'U8', shape: [3], data: new Uint8Array([0, 128, 255]) },
    i8: { dtype: 'I8', shape: [3], data: new Int8Array([-128, 0, 127]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([7]) },
  };
  writeSafetensors(path, tensors, { format: 'pt', note: 'ünïcode ✓' });
  const r = SafetensorsReader.open(path);
  t.after(() => r.close());
  assert.deepEqual(r.names(), Object.keys(tensors).sort());
  assert.deepEqual(r.metadata, { format: 'pt', note: 'ünïcode ✓' });
  assert.ok(r.has('i8') && !r.has('nope'));
  assert.deepEqual(r.readFloat32('f32'), tensors.f32.data);
  assert.deepEqual(r.readFloat32('f16bits'), new Float32Array([1, -2, 2 ** -24]));
  assert.deepEqual(r.readFloat32('f16vals'), new Float32Array([0.5, -65504]));
  assert.deepEqual(r.readFloat32('bf16bits'), new Float32Array([1, -3]));
  assert.deepEqual(r.readFloat32('bf16vals'), new Float32Array([2, -0.25]));
  assert.deepEqual(new BigInt64Array(r.readRaw('i64').buffer), tensors.i64.data);
  assert.deepEqual(new Int32Array(r.readRaw('i32').buffer), tensors.i32.data);
  assert.deepEqual(r.readRaw('u8'), tensors.u8.data);
  assert.deepEqual(new Int8Array(r.readRaw('i8').buffer), tensors.i8.data);
  assert.deepEqual(r.readFloat32('empty'), new Float32Array(0));
  assert.deepEqual(r.readFloat32('scalar'), new Float32Array([7]));
  assert.deepEqual(r.info('i32'), {
    name: 'i32',
    dtype: 'I32',
    shape: [2, 1],
    byteOffset: r.info('i32').byteOffset,
    byteLength: 8,
  });
  throwsUser(() => r.readFloat32('i64'), path, '"i64"', 'I64');
});

test('the written layout follows the spec: padded header, name order, temp file renamed', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'm.safetensors');
  writeSafetensors(path, {
    b: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
    a: { dtype: 'F32', shape: [1], data: new Float32Array([1]) },
  });
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  assert.deepEqual(Object.keys(header), ['a', 'b']);
  assert.deepEqual(header.a, { dtype: 'F32', shape: [1], data_offsets: [0, 4] });
  assert.deepEqual(header.b, { dtype: 'U8', shape: [3], data_offsets: [4, 7] });
  assert.equal(bytes.length, 8 + n + 7);
  assert.deepEqual([...bytes.subarray(8 + n + 4)], [1, 2, 3]);
  assert.deepEqual(readdirSync(dir), ['m.safetensors']);

  // A failed write leaves the old file intact and no temp file behind.
  assert.throws(() => writeSafetensors(path, { x: { dtype: 'F32', shape: [2], data: new Float32Array(3) } }));
  assert.deepEqual(readFileSync(path), bytes);
  assert.deepEqual(readdirSync(dir), ['m.safetensors']);
});

test('f16 -> f32 is exact for all 65536 bit patterns, and f32 -> f16 returns them', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const f = float16BitsToFloat32(all);
  const back = float32ToFloat16Bits(f);
  for (let h = 0; h < 65536; h++) {
    const isNaN16 = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
    if (isNaN16) {
      assert.ok(Number.isNaN(f[h]));
      assert.ok((back[h] & 0x7c00) === 0x7c00 && (back[h] & 0x3ff) !== 0, `NaN ${h} stays NaN`);
    } else {
      assert.equal(back[h], h, `pattern 0x${h.toString(16)}`);
    }
  }
  const known: [number, number][] = [
    [0x0000, 0],
    [0x0001, 2 ** -24], // smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x0400, 2 ** -14], // smallest normal
    [0x3c00, 1],
    [0x3555, 0.333251953125],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  for (const [bits, value] of known) assert.equal(f[bits], value, `0x${bits.toString(16)}`);
  assert.ok(Object.is(f[0x8000], -0));
});

test('f32 -> f16 rounds to nearest even and saturates to inf', () => {
  const x = new Float32Array([
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    65520,
    1e10,
    2 ** -25,
    3 * 2 ** -26,
    1e-10,
    -1e-10,
  ]);
  assert.deepEqual([...float32ToFloat16Bits(x)], [0x3c00, 0x3c02, 0x7c00, 0x7c00, 0x0000, 0x0001, 0, 0x8000]);
});

test('bf16 -> f32 is exact for all 65536 bit patterns, and f32 -> bf16 returns them', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const f = bfloat16BitsToFloat32(all);
  const back = float32ToBfloat16Bits(f);
  for (let h = 0; h < 65536; h++) {
    if ((h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0)
      assert.ok(Number.isNaN(f[h]) && Number.isNaN(bfloat16BitsToFloat32(back.subarray(h, h + 1))[0]));
    else assert.equal(back[h], h, `pattern 0x${h.toString(16)}`);
  }
  assert.equal(f[0x0001], 2 ** -133); // smallest bf16 subnormal
  assert.equal(f[0x7f80], Infinity);
  assert.equal(f[0xff80], -Infinity);
  // Round to nearest even on the dropped 16 bits.
  const x = new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20]);
  assert.deepEqual([...float32ToBfloat16Bits(x)], [0x3f80, 0x3f82, 0x3f81]);
});

test('reads a file written by hand per the spec (not by our writer)', (t) => {
  const path = join(tempDir(t), 'hand.safetensors');
  // Header with metadata, keys out of order, data not in header order, an unpadded header.
  const data = [
    // "b": F16 [2] = 1.0, -0.5  -> 00 3c, 00 b8
    0x00,
    0x3c,
    0x00,
    0xb8,
    // "a": F32 [1,2] = 2.0, -1.0 -> 00 00 00 40, 00 00 80 bf
    0x00,
    0x00,
    0x00,
    0x40,
    0x00,
    0x00,
    0x80,
    0xbf,
    // "c": BF16 [1] = 1.0 -> 80 3f
    0x80,
    0x3f,
    // "d": F64 [1] = 0.1
    ...new Uint8Array(new Float64Array([0.1]).buffer),
  ];
  handMade(
    path,
    {
      a: { dtype: 'F32', shape: [1, 2], data_offsets: [4, 12] },
      __metadata__: { format: 'pt' },
      d: { dtype: 'F64', shape: [1], data_offsets: [14, 22] },
      b: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      c: { dtype: 'BF16', shape: [1], data_offsets: [12, 14] },
    },
    data,
  );
  const r = SafetensorsReader.open(path);
  t.after(() => r.close());
  assert.deepEqual(r.names().sort(), ['a', 'b', 'c', 'd']);
  assert.deepEqual(r.metadata, { format: 'pt' });
  assert.deepEqual(r.readFloat32('a'), new Float32Array([2, -1]));
  assert.deepEqual(r.readFloat32('b'), new Float32Array([1, -0.5]));
  assert.deepEqual(r.readFloat32('c'), new Float32Array([1]));
  assert.deepEqual(r.readFloat32('d'), new Float32Array([0.1]));
  assert.deepEqual(r.info('a').shape, [1, 2]);
  assert.equal(r.info('a').byteLength, 8);
});

test('corrupt files give a one-line UserError naming the file and the tensor', (t) => {
  const dir = tempDir(t);
  const p = (name: string) => join(dir, name);

  writeFileSync(p('short'), Buffer.from([1, 2, 3]));
  throwsUser(() => SafetensorsReader.open(p('short')), p('short'), 'only 3 bytes');

  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(1000n);
  writeFileSync(p('long-header'), huge);
  throwsUser(() => SafetensorsReader.open(p('long-header')), p('long-header'), 'header length 1000');

  handMade(p('not-json'), null, [], { rawHeader: '{"a": {' });
  throwsUser(() => SafetensorsReader.open(p('not-json')), p('not-json'), 'not valid JSON');

  handMade(p('array'), [1, 2], []);
  throwsUser(() => SafetensorsReader.open(p('array')), p('array'), 'not a JSON object');

  handMade(p('bad-offsets'), { w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, [0, 0, 0, 0]);
  throwsUser(() => SafetensorsReader.open(p('bad-offsets')), p('bad-offsets'), '"w"', 'data_offsets');

  handMade(
    p('size-mismatch'),
    { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 8] } },
    new Array(16).fill(0),
  );
  throwsUser(() => SafetensorsReader.open(p('size-mismatch')), p('size-mismatch'), '"w"', 'needs 16');

  handMade(p('truncated'), { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Array(10).fill(0));
  throwsUser(() => SafetensorsReader.open(p('truncated')), p('truncated'), '"w"', 'truncated');

  handMade(p('outside'), { w: { dtype: 'U8', shape: [2], data_offsets: [8, 10] } }, new Array(4).fill(0));
  throwsUser(() => SafetensorsReader.open(p('outside')), p('outside'), '"w"', 'only 4 data bytes');

  handMade(p('dtype'), { w: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, new Array(16).fill(0));
  throwsUser(() => SafetensorsReader.open(p('dtype')), p('dtype'), '"w"', 'unsupported dtype "F128"');

  handMade(p('shape'), { w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Array(4).fill(0));
  throwsUser(() => SafetensorsReader.open(p('shape')), p('shape'), '"w"', 'invalid shape');

  throwsUser(() => SafetensorsReader.open(p('absent')), p('absent'), 'cannot open');

  const names: Record<string, WritableTensor> = {};
  for (let i = 0; i < 8; i++) names[`layer.${i}`] = { dtype: 'U8', shape: [1], data: new Uint8Array(1) };
  writeSafetensors(p('ok'), names);
  const r = SafetensorsReader.open(p('ok'));
  t.after(() => r.close());
  throwsUser(() => r.readFloat32('lm_head.weight'), p('ok'), '"lm_head.weight"', '"layer.0"', '8 in all');
});

test('the writer rejects unsupported dtypes and mismatched data, naming the tensor', (t) => {
  const path = join(tempDir(t), 'w.safetensors');
  const bad = { dtype: 'F64', shape: [1], data: new Float32Array(1) } as unknown as WritableTensor;
  throwsUser(() => writeSafetensors(path, { w: bad }), path, '"w"', 'unsupported dtype "F64"');
  throwsUser(
    () => writeSafetensors(path, { w: { dtype: 'I32', shape: [1], data: new Float32Array(1) } }),
    '"w"',
    'Int32Array',
  );
  throwsUser(
    () => writeSafetensors(path, { w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }),
    '"w"',
    '4 elements',
  );
});

test('reads a tensor by positioned reads after a large neighbour', (t) => {
  const path = join(tempDir(t), 'big.safetensors');
  const big = new Float32Array(1 << 20).map((_, i) => i);
  writeSafetensors(path, {
    a: { dtype: 'F32', shape: [1 << 20], data: big },
    z: { dtype: 'F32', shape: [3], data: new Float32Array([9, 8, 7]) },
  });
  const r = SafetensorsReader.open(path);
  t.after(() => r.close());
  assert.deepEqual(r.readFloat32('z'), new Float32Array([9, 8, 7]));
  assert.deepEqual(r.readFloat32('a'), big);
  r.close();
  assert.throws(() => r.readRaw('z'), /closed/);
});
