import type { Cart } from './cart';
import { findCustomer } from './customers';
import { bestDiscount, applyDiscount, type Discount } from './discounts';
import { emitShopEvent } from './events';
import { newId } from './ids';
import { available, reserve, type StockLevel } from './inventory';
import type { Cents } from './money';
import { fail, ok, type Result } from './result';
import { shippingCost } from './shipping';
import { taxFor } from './tax';

export interface Order {
  id: string;
  customerId: string;
  subtotal: Cents;
  tax: Cents;
  shipping: Cents;
  total: Cents;
}

const orders = new Map<string, Order>();

export function placeOrder(
  cart: Cart,
  customerId: string,
  stock: Map<string, StockLevel>,
  discounts: Discount[],
  weightGrams: number,
): Result<Order> {
  const customer = findCustomer(customerId);
  if (!customer.ok) return fail(customer.error);
  if (cart.count() === 0) return fail('the cart is empty');
  for (const item of cart.lines()) {
    const level = stock.get(item.sku);
    if (!level || available(level) < item.quantity) return fail(`not enough stock for ${item.sku}`);
  }
  for (const item of cart.lines()) stock.set(item.sku, reserve(stock.get(item.sku)!, item.quantity));
  const discount = bestDiscount(cart.total(), discounts);
  const subtotal = discount ? applyDiscount(cart.total(), discount) : cart.total();
  const tax = taxFor(subtotal, customer.value.region);
  const shipping = shippingCost(weightGrams, customer.value.region, subtotal);
  const order: Order = {
    id: newId('ord'),
    customerId,
    subtotal,
    tax,
    shipping,
    total: subtotal + tax + shipping,
  };
  orders.set(order.id, order);
  emitShopEvent({ type: 'order.placed', orderId: order.id, total: order.total });
  return ok(order);
}

export function findOrder(id: string): Result<Order> {
  const order = orders.get(id);
  return order ? ok(order) : fail(`no order ${id}`);
}

export function shipOrder(orderId: string, carrier: string): Result<Order> {
  const order = findOrder(orderId);
  if (!order.ok) return fail(order.error);
  if (!carrier) return fail('a shipment needs a carrier');
  emitShopEvent({ type: 'order.shipped', orderId, carrier });
  return ok(order.value);
}

export function cancelOrder(order: Order, reason: string): Result<Order> {
  if (!reason) return fail('a cancellation needs a reason');
  emitShopEvent({ type: 'order.cancelled', orderId: order.id, reason });
  return ok(order);
}
