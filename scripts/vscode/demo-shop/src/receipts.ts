import type { Cart } from './cart';
import type { Customer } from './customers';
import { formatCents, type Cents } from './money';

export function receiptLines(cart: Cart, customer: Customer, tax: Cents, shipping: Cents): string[] {
  const lines = [`Receipt for ${customer.name} <${customer.email}>`];
  for (const item of cart.lines()) {
    lines.push(`${item.quantity} x ${item.name}: ${formatCents(item.unitPrice * item.quantity)}`);
  }
  lines.push(`Tax: ${formatCents(tax)}`);
  lines.push(`Shipping: ${formatCents(shipping)}`);
  lines.push(`Total: ${formatCents(cart.total() + tax + shipping)}`);
  return lines;
}
