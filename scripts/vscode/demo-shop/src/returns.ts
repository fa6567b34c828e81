import { findCustomer } from './customers';
import { emitShopEvent } from './events';
import { newId } from './ids';
import { restock, type StockLevel } from './inventory';
import type { Cents } from './money';
import { fail, ok, type Result } from './result';

export interface ReturnLine {
  sku: string;
  quantity: number;
  unitPrice: Cents;
}

export interface ReturnRequest {
  id: string;
  orderId: string;
  customerId: string;
  lines: ReturnLine[];
  refund: Cents;
}

export function requestReturn(
  orderId: string,
  customerId: string,
  lines: ReturnLine[],
  stock: Map<string, StockLevel>,
): Result<ReturnRequest> {
  const customer = findCustomer(customerId);
  if (!customer.ok) return fail(customer.error);
  if (lines.length === 0) return fail('a return needs at least one line');
  for (const line of lines) {
    if (!stock.has(line.sku)) return fail(`unknown sku ${line.sku}`);
  }
  for (const line of lines) stock.set(line.sku, restock(stock.get(line.sku)!, line.quantity));
  let refund: Cents = 0;
  for (const line of lines) refund += line.unitPrice * line.quantity;
  const request: ReturnRequest = {
    id: newId('ret'),
    orderId,
    customerId,
    lines,
    refund,
  };
  emitShopEvent({ type: 'return.requested', returnId: request.id, orderId, refund });
  return ok(request);
}
