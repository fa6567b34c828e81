import { strict as assert } from 'node:assert';
import { addCents, formatCents, toCents } from '../src/money';

assert.equal(toCents(12.34), 1234);
assert.equal(addCents(toCents(1.1), toCents(2.2)), 330);
assert.equal(formatCents(1234), '€12.34');
