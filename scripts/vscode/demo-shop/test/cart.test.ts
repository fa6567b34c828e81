import { strict as assert } from 'node:assert';
import { Cart } from '../src/cart';

const cart = new Cart();
cart.add({ sku: 'a', name: 'Apple', unitPrice: 50, quantity: 3 });
cart.add({ sku: 'b', name: 'Bread', unitPrice: 250, quantity: 1 });
assert.equal(cart.total(), 400);
assert.equal(cart.count(), 4);
