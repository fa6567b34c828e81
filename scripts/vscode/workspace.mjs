// The demo workspace and the offline model, shared by `npm start` and the e2e tests.
// No hub here: the model is a small GPT-2-shaped one built locally (random weights, the real GPT-2
// tokenizer, StarCoder-style FIM tokens as SmolLM2 has), cached by shape.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

export const TINY_MODEL_SHAPE = { nLayer: 2, nHead: 4, nEmbd: 128, nPositions: 256 };
export const FIM_TOKENS = ['<fim_prefix>', '<fim_middle>', '<fim_suffix>'];

// Random weights need embeddings larger than GPT-2's init for LoRA to move the loss visibly
// (the tied head caps the logits); 0.1 with the demo's learning rate falls ~11 -> ~8.5 in 30 steps.
const EMBEDDING_STD = 0.1;
const MARKER = 'localtune-fixture.json';

/** Builds the small offline model into `dir` unless it is there already (same recipe); returns `dir`. */
export function ensureTinyModel(dir) {
  const marker = join(dir, MARKER);
  const recipe = JSON.stringify({ shape: TINY_MODEL_SHAPE, embeddingStd: EMBEDDING_STD, fim: FIM_TOKENS });
  if (
    existsSync(join(dir, 'model.safetensors')) &&
    existsSync(marker) &&
    readFileSync(marker, 'utf8') === recipe
  )
    return dir;
  console.log(
    `[workspace] building a small GPT-2-shaped model in ${dir} (offline: random weights, GPT-2 tokenizer)`,
  );
  const call = `require('./fixtures/tinyModel').writeGpt2Model(${JSON.stringify(dir)}, ${JSON.stringify(
    TINY_MODEL_SHAPE,
  )}, 0, { embeddingStd: ${EMBEDDING_STD}, extraSpecialTokens: ${JSON.stringify(FIM_TOKENS)} })`;
  execFileSync(process.execPath, ['--import', 'tsx', '-e', call], { cwd: root, stdio: 'inherit' });
  writeFileSync(marker, recipe);
  return dir;
}

/** A small FAQ about the demo project in the `messages` format, so the offline demo shows chat tuning too. */
const FAQ_SYSTEM = 'You answer questions about the demo-shop project briefly.';
const FAQ = [
  ['What is demo-shop?', 'A small TypeScript shop library: money in cents, a cart, discounts and inventory.'],
  [
    'How are prices stored?',
    'As whole cents (the Cents type in src/money.ts), never as floating-point euros.',
  ],
  ['How do I turn 12.34 euros into cents?', 'Call toCents(12.34): it returns 1234.'],
  ['How do I show a price to a customer?', 'Use formatCents(cents, currency); the currency defaults to EUR.'],
  ['How do I add two amounts?', 'Use addCents(a, b) from src/money.ts.'],
  ['How do I add an item to the cart?', 'Call cart.add({ sku, name, unitPrice, quantity }).'],
  ['What happens if I add the same SKU twice?', 'The quantities are added up on the existing line.'],
  ['How do I remove an item?', 'Call cart.remove(sku); it returns true when the item was there.'],
  ['How do I get the cart total?', 'Call cart.total(): the sum of unit price times quantity, in cents.'],
  ['How do I count the items in the cart?', 'cart.count() returns the total quantity of all lines.'],
  ['How do discounts work?', 'A Discount has a code, a percent and a minimum total in cents.'],
  [
    'When does a discount not apply?',
    'When the total is below its minimum: applyDiscount returns the total unchanged.',
  ],
  ['How is a discounted total rounded?', 'To the nearest cent with Math.round.'],
  [
    'Which discount should I use?',
    'bestDiscount(total, discounts) picks the one that gives the lowest total.',
  ],
  ['What does bestDiscount return when none applies?', 'undefined.'],
  ['What is a StockLevel?', 'A SKU with the units on hand and the units reserved for open orders.'],
  ['How many units can I sell?', 'available(level): on hand minus reserved.'],
  [
    'How do I hold stock for an order?',
    'reserve(level, quantity) returns a new StockLevel with more reserved.',
  ],
  ['How do I record a delivery?', 'restock(level, quantity) returns a new StockLevel with more on hand.'],
  ['Where are the tests?', 'In test/: cart.test.ts checks the total and the count of a cart.'],
  ['Does the project have dependencies?', 'No runtime dependencies: plain TypeScript modules.'],
  [
    'Is the cart safe to share between users?',
    'No: a Cart keeps its items in memory; make one per customer.',
  ],
];
const faqLines = FAQ.map(([q, a], i) => {
  const messages = [
    { role: 'user', content: q },
    { role: 'assistant', content: a },
  ];
  // Every fourth conversation has the system prompt, and one goes on for a second turn.
  if (i % 4 === 0) messages.unshift({ role: 'system', content: FAQ_SYSTEM });
  if (i === 5)
    messages.push(
      { role: 'user', content: 'And then the total?' },
      { role: 'assistant', content: 'cart.total() counts the merged line once, with its new quantity.' },
    );
  return JSON.stringify({ messages });
});

const files = {
  'README.md': `# demo-shop

A small TypeScript project to try LocalTune on: build a dataset from this workspace
(LocalTune: Build dataset from workspace), fine-tune the model on it, and watch the loss.
`,
  'package.json': `${JSON.stringify({ name: 'demo-shop', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
  'src/money.ts': `export type Cents = number;

export function toCents(amount: number): Cents {
  return Math.round(amount * 100);
}

export function formatCents(cents: Cents, currency = 'EUR'): string {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).format(cents / 100);
}

export function addCents(a: Cents, b: Cents): Cents {
  return a + b;
}
`,
  'src/cart.ts': `import { addCents, type Cents } from './money';

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
  }

  remove(sku: string): boolean {
    return this.items.delete(sku);
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
`,
  'src/discounts.ts': `import type { Cents } from './money';

export interface Discount {
  code: string;
  percent: number;
  minimum: Cents;
}

export function applyDiscount(total: Cents, discount: Discount): Cents {
  if (total < discount.minimum) return total;
  return Math.round(total * (1 - discount.percent / 100));
}

export function bestDiscount(total: Cents, discounts: Discount[]): Discount | undefined {
  let best: Discount | undefined;
  for (const d of discounts) {
    if (total < d.minimum) continue;
    if (!best || applyDiscount(total, d) < applyDiscount(total, best)) best = d;
  }
  return best;
}
`,
  'src/inventory.ts': `export interface StockLevel {
  sku: string;
  onHand: number;
  reserved: number;
}

export function available(level: StockLevel): number {
  return Math.max(0, level.onHand - level.reserved);
}

export function reserve(level: StockLevel, quantity: number): StockLevel {
  if (quantity > available(level)) throw new Error(\`not enough stock for \${level.sku}\`);
  return { ...level, reserved: level.reserved + quantity };
}

export function restock(level: StockLevel, quantity: number): StockLevel {
  return { ...level, onHand: level.onHand + quantity };
}
`,
  'test/cart.test.ts': `import { strict as assert } from 'node:assert';
import { Cart } from '../src/cart';

const cart = new Cart();
cart.add({ sku: 'a', name: 'Apple', unitPrice: 50, quantity: 3 });
cart.add({ sku: 'b', name: 'Bread', unitPrice: 250, quantity: 1 });
assert.equal(cart.total(), 400);
assert.equal(cart.count(), 4);
`,
  '.gitignore': 'node_modules/\n.localtune/\n',
  'faq.jsonl': `${faqLines.join('\n')}\n`,
};

/**
 * Writes the demo workspace into `dir` (existing files are left alone, so a user's edits survive)
 * and points `localtune.defaultModel` at `modelDir` in its workspace settings.
 */
export function writeDemoWorkspace(dir, { modelDir, randomWeights = true, settings = {} } = {}) {
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    if (existsSync(path)) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  // Its own git repository: inside this repo's ignored .cache/ it would otherwise look ignored.
  if (!existsSync(join(dir, '.git'))) spawnSync('git', ['init', '-q', dir], { stdio: 'ignore' });
  // A model with random weights needs more than a pretrained model's default learning rate to move.
  const offline = modelDir
    ? {
        'localtune.defaultModel': modelDir,
        ...(randomWeights ? { 'localtune.training.learningRate': 0.002 } : {}),
      }
    : {};
  const workspaceSettings = { ...offline, ...settings };
  mkdirSync(join(dir, '.vscode'), { recursive: true });
  writeFileSync(join(dir, '.vscode', 'settings.json'), `${JSON.stringify(workspaceSettings, null, 2)}\n`);
  return dir;
}
