import { findCustomer } from './customers';
import { emitShopEvent } from './events';
import type { Cents } from './money';
import { fail, ok, type Result } from './result';

/** One point per whole euro spent; 100 points are worth one euro off. */
const points = new Map<string, number>();

export function earnPoints(customerId: string, total: Cents): Result<number> {
  const customer = findCustomer(customerId);
  if (!customer.ok) return fail(customer.error);
  const earned = Math.floor(total / 100);
  const balance = (points.get(customerId) ?? 0) + earned;
  points.set(customerId, balance);
  emitShopEvent({ type: 'points.earned', customerId, points: earned });
  return ok(balance);
}

export function redeemPoints(customerId: string, wanted: number): Result<Cents> {
  const customer = findCustomer(customerId);
  if (!customer.ok) return fail(customer.error);
  const balance = points.get(customerId) ?? 0;
  if (wanted > balance) return fail(`only ${balance} points left`);
  points.set(customerId, balance - wanted);
  emitShopEvent({ type: 'points.redeemed', customerId, points: wanted });
  return ok(wanted);
}
