import { strict as assert } from 'node:assert';
import { applyDiscount, bestDiscount, type Discount } from '../src/discounts';

const tenOff: Discount = { code: 'TEN', percent: 10, minimum: 2000 };
const fiveOff: Discount = { code: 'FIVE', percent: 5, minimum: 0 };
assert.equal(applyDiscount(1000, tenOff), 1000);
assert.equal(applyDiscount(3000, tenOff), 2700);
assert.equal(bestDiscount(3000, [fiveOff, tenOff])?.code, 'TEN');
assert.equal(bestDiscount(1000, [tenOff]), undefined);
