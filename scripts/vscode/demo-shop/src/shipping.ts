import type { Region } from './customers';
import type { Cents } from './money';

const BASE_RATE: Record<Region, Cents> = { EU: 499, UK: 699, US: 899 };
const PER_KILO: Cents = 150;
const FREE_FROM: Cents = 5000;

export function shippingCost(weightGrams: number, region: Region, subtotal: Cents): Cents {
  if (subtotal >= FREE_FROM) return 0;
  return BASE_RATE[region] + Math.ceil(weightGrams / 1000) * PER_KILO;
}
