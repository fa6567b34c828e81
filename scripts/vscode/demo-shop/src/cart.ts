import { emitShopEvent } from './events';
import { addCents, type Cents } from './money';

export interface CartItem {
  sku: string;
  name: string;
  unitPrice: Cents;
  quantity: number;
}

export class Cart {
  private readonly items = new Map<string, CartItem>();

  add(item: CartItem): void {
    const existing = this.items.get(item.sku);
    if (existing) existing.quantity += item.quantity;
    else this.items.set(item.sku, { ...item });
    emitShopEvent({ type: 'cart.updated', sku: item.sku, quantity: item.quantity });
  }

  remove(sku: string): boolean {
    return this.items.delete(sku);
  }

  lines(): CartItem[] {
    return [...this.items.values()];
  }

  total(): Cents {
    let sum: Cents = 0;
    for (const item of this.items.values()) sum = addCents(sum, item.unitPrice * item.quantity);
    return sum;
  }

  count(): number {
    let n = 0;
    for (const item of this.items.values()) n += item.quantity;
    return n;
  }
}
