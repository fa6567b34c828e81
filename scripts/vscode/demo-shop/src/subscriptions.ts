import type { Cart } from './cart';
import { findCustomer } from './customers';
import { emitShopEvent } from './events';
import { newId } from './ids';
import type { Cents } from './money';
import { fail, ok, type Result } from './result';
import { taxFor } from './tax';

export type Interval = 'weekly' | 'monthly';

export interface Subscription {
  id: string;
  customerId: string;
  interval: Interval;
  subtotal: Cents;
  tax: Cents;
  total: Cents;
}

export function subscribe(cart: Cart, customerId: string, interval: Interval): Result<Subscription> {
  const customer = findCustomer(customerId);
  if (!customer.ok) return fail(customer.error);
  if (cart.count() === 0) return fail('the cart is empty');
  const subtotal = cart.total();
  const tax = taxFor(subtotal, customer.value.region);
  const subscription: Subscription = {
    id: newId('sub'),
    customerId,
    interval,
    subtotal,
    tax,
    total: subtotal + tax,
  };
  emitShopEvent({ type: 'subscription.started', subscriptionId: subscription.id, total: subscription.total });
  return ok(subscription);
}

export function pauseSubscription(subscription: Subscription, weeks: number): Result<Subscription> {
  if (weeks < 1) return fail('a pause lasts at least one week');
  emitShopEvent({ type: 'subscription.paused', subscriptionId: subscription.id, weeks });
  return ok(subscription);
}
