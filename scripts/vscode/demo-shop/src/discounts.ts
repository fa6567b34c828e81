import type { Cents } from './money';

export interface Discount {
  code: string;
  percent: number;
  minimum: Cents;
}

export function applyDiscount(total: Cents, discount: Discount): Cents {
  if (total < discount.minimum) return total;
  return Math.round(total * (1 - discount.percent / 100));
}

export function bestDiscount(total: Cents, discounts: Discount[]): Discount | undefined {
  let best: Discount | undefined;
  for (const d of discounts) {
    if (total < d.minimum) continue;
    if (!best || applyDiscount(total, d) < applyDiscount(total, best)) best = d;
  }
  return best;
}
