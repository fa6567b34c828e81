export type ShopEvent =
  | { type: 'cart.updated'; sku: string; quantity: number }
  | { type: 'stock.low'; sku: string; available: number }
  | { type: 'order.placed'; orderId: string; total: number }
  | { type: 'order.cancelled'; orderId: string; reason: string };

type Listener = (event: ShopEvent) => void;
const listeners: Listener[] = [];

export function onShopEvent(listener: Listener): () => void {
  listeners.push(listener);
  return () => listeners.splice(listeners.indexOf(listener), 1);
}

export function emitShopEvent(event: ShopEvent): void {
  for (const listener of listeners) listener(event);
}
