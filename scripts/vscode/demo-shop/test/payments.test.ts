import { strict as assert } from 'node:assert';
import { registerCustomer } from '../src/customers';
import { capturePayment, refundPayment } from '../src/payments';
import { unwrap } from '../src/result';

const eu = unwrap(registerCustomer('Ada', 'ada@example.com', 'EU'));
const us = unwrap(registerCustomer('Bo', 'bo@example.com', 'US'));
const paid = unwrap(capturePayment('ord_1', eu.id, 2500, 'card'));
assert.equal(unwrap(refundPayment(paid.id, 500, 'damaged')).amount, 2000);
assert.equal(refundPayment(paid.id, 500, '').ok, false);
assert.equal(capturePayment('ord_2', us.id, 1000, 'invoice').ok, false);
