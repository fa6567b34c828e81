export type ShopEvent =
  | { type: 'cart.updated'; sku: string; quantity: number }
  | { type: 'stock.low'; sku: string; available: number }
  | { type: 'order.placed'; orderId: string; total: number }
  | { type: 'order.shipped'; orderId: string; carrier: string }
  | { type: 'order.cancelled'; orderId: string; reason: string }
  | { type: 'payment.captured'; paymentId: string; orderId: string; amount: number }
  | { type: 'payment.refunded'; paymentId: string; amount: number; reason: string }
  | { type: 'return.requested'; returnId: string; orderId: string; refund: number }
  | { type: 'giftcard.issued'; cardId: string; amount: number }
  | { type: 'giftcard.redeemed'; cardId: string; amount: number }
  | { type: 'subscription.started'; subscriptionId: string; total: number }
  | { type: 'subscription.paused'; subscriptionId: string; weeks: number }
  | { type: 'points.earned'; customerId: string; points: number }
  | { type: 'points.redeemed'; customerId: string; points: number };

type Listener = (event: ShopEvent) => void;
const listeners: Listener[] = [];

export function onShopEvent(listener: Listener): () => void {
  listeners.push(listener);
  return () => listeners.splice(listeners.indexOf(listener), 1);
}

export function emitShopEvent(event: ShopEvent): void {
  for (const listener of listeners) listener(event);
}
