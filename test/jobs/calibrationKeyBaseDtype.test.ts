// The Fine-tune form's estimate is calibrated per step cost: an int8 base measures its own steps,
// and fp32 runs keep the keys (and cached calibrations) they had before the option existed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrationKey } from '../../src/jobs/estimate';
import type { TrainSpec } from '../../src/jobs/trainSpec';

const spec: TrainSpec = { modelDir: '/m', data: ['/d'], mode: 'lora', outDir: '/o' };

test('calibration keys: int8 base apart from fp32; fp32 and full fine-tuning as before', () => {
  assert.notEqual(calibrationKey({ ...spec, baseDtype: 'int8' }), calibrationKey(spec));
  assert.equal(calibrationKey({ ...spec, baseDtype: 'fp32' }), calibrationKey(spec));
  assert.ok(!calibrationKey(spec).includes('baseDtype'));
  const full = { ...spec, mode: 'full' as const };
  assert.equal(calibrationKey({ ...full, baseDtype: 'int8' }), calibrationKey(full));
});
