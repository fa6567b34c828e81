import { strict as assert } from 'node:assert';
import { available, reserve, restock, type StockLevel } from '../src/inventory';

const apples: StockLevel = { sku: 'a', onHand: 5, reserved: 1 };
assert.equal(available(apples), 4);
assert.equal(available(reserve(apples, 4)), 0);
assert.equal(restock(apples, 10).onHand, 15);
assert.throws(() => reserve(apples, 5), /not enough stock for a/);
