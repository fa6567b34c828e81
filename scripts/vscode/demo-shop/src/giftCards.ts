import { emitShopEvent } from './events';
import { newId } from './ids';
import type { Cents } from './money';
import { fail, ok, type Result } from './result';

export interface GiftCard {
  id: string;
  balance: Cents;
}

const cards = new Map<string, GiftCard>();

export function issueGiftCard(amount: Cents): Result<GiftCard> {
  if (amount <= 0) return fail('a gift card needs a positive amount');
  const card: GiftCard = { id: newId('gft'), balance: amount };
  cards.set(card.id, card);
  emitShopEvent({ type: 'giftcard.issued', cardId: card.id, amount });
  return ok(card);
}

export function findGiftCard(id: string): Result<GiftCard> {
  const card = cards.get(id);
  return card ? ok(card) : fail(`no gift card ${id}`);
}

export function redeemGiftCard(id: string, amount: Cents): Result<GiftCard> {
  const card = findGiftCard(id);
  if (!card.ok) return fail(card.error);
  if (amount > card.value.balance) return fail(`not enough balance on ${id}`);
  const updated: GiftCard = { ...card.value, balance: card.value.balance - amount };
  cards.set(id, updated);
  emitShopEvent({ type: 'giftcard.redeemed', cardId: id, amount });
  return ok(updated);
}
