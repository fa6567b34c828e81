import { findCustomer } from './customers';
import { emitShopEvent } from './events';
import { newId } from './ids';
import type { Cents } from './money';
import { fail, ok, type Result } from './result';

export type PaymentMethod = 'card' | 'invoice' | 'gift-card';

export interface Payment {
  id: string;
  orderId: string;
  customerId: string;
  amount: Cents;
  method: PaymentMethod;
}

const payments = new Map<string, Payment>();

export function capturePayment(
  orderId: string,
  customerId: string,
  amount: Cents,
  method: PaymentMethod,
): Result<Payment> {
  const customer = findCustomer(customerId);
  if (!customer.ok) return fail(customer.error);
  if (amount <= 0) return fail('a payment needs a positive amount');
  if (method === 'invoice' && customer.value.region === 'US')
    return fail('invoices are for EU and UK customers');
  const payment: Payment = { id: newId('pay'), orderId, customerId, amount, method };
  payments.set(payment.id, payment);
  emitShopEvent({ type: 'payment.captured', paymentId: payment.id, orderId, amount });
  return ok(payment);
}

export function findPayment(id: string): Result<Payment> {
  const payment = payments.get(id);
  return payment ? ok(payment) : fail(`no payment ${id}`);
}

export function refundPayment(paymentId: string, amount: Cents, reason: string): Result<Payment> {
  const payment = findPayment(paymentId);
  if (!payment.ok) return fail(payment.error);
  if (!reason) return fail('a refund needs a reason');
  if (amount > payment.value.amount) return fail(`cannot refund more than ${payment.value.amount}`);
  const refunded: Payment = { ...payment.value, amount: payment.value.amount - amount };
  payments.set(paymentId, refunded);
  emitShopEvent({ type: 'payment.refunded', paymentId, amount, reason });
  return ok(refunded);
}
