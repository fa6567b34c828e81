export interface StockLevel {
  sku: string;
  onHand: number;
  reserved: number;
}

export function available(level: StockLevel): number {
  return Math.max(0, level.onHand - level.reserved);
}

export function reserve(level: StockLevel, quantity: number): StockLevel {
  if (quantity > available(level)) throw new Error(`not enough stock for ${level.sku}`);
  return { ...level, reserved: level.reserved + quantity };
}

export function restock(level: StockLevel, quantity: number): StockLevel {
  return { ...level, onHand: level.onHand + quantity };
}
