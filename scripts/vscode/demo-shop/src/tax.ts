import type { Region } from './customers';
import type { Cents } from './money';

/** VAT or sales tax in percent, by region. */
export const TAX_RATES: Record<Region, number> = { EU: 21, UK: 20, US: 7 };

export function taxFor(net: Cents, region: Region): Cents {
  return Math.round((net * TAX_RATES[region]) / 100);
}

export function withTax(net: Cents, region: Region): Cents {
  return net + taxFor(net, region);
}
