// CSV and TSV files of prompt/response pairs (support tickets, FAQs exported from a spreadsheet) to
// one record per row: a conversation (an optional system column, the prompt as the user, the
// response as the assistant). Parsed by csv-parse (quoted fields, embedded newlines, a BOM); the
// columns are chosen by name, or found among the usual names in the header.
import { parse } from 'csv-parse/sync';
import { OptionError } from '../../engine/errors';
import type { ChatMessage, ChatTemplate } from './chat';
import { recordSample, type RecordResult } from './jsonl';

/** The columns chosen by name (compared without case); one left out is found among the usual names. */
export interface CsvColumns {
  prompt?: string;
  response?: string;
  system?: string;
}

/** Only the columns actually chosen (empty names dropped); undefined when none is. */
export function chosenColumns(c: CsvColumns | undefined): CsvColumns | undefined {
  const named = Object.entries(c ?? {}).filter(([, name]) => typeof name === 'string' && name.trim());
  return named.length ? (Object.fromEntries(named.map(([k, v]) => [k, v.trim()])) as CsvColumns) : undefined;
}

/** Header names tried, in order, when no columns are chosen (compared without case). */
const PROMPT_NAMES = [
  'prompt',
  'question',
  'input',
  'instruction',
  'query',
  'user',
  'customer',
  'ticket',
  'message',
];
const RESPONSE_NAMES = ['response', 'answer', 'output', 'completion', 'assistant', 'reply', 'resolution'];
const SYSTEM_NAMES = ['system', 'system_prompt'];

export type CsvRow = { line: number; messages: ChatMessage[] } | { line: number; error: string };

/** The rows of a CSV (or, for a `.tsv` name, TSV) file as conversations; `line` is the row's first line. */
export function csvConversations(text: string, path: string, chosen?: CsvColumns): CsvRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter: delimiterOf(path),
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    const e = err as Error & { lines?: number };
    return [{ line: e.lines ?? 1, error: `not valid CSV (${e.message})` }];
  }
  if (records.length === 0)
    return [{ line: 1, error: 'empty file: a header row and one row per pair expected' }];
  const [header, ...rows] = records;
  const names = header.record.map((h) => h.trim());
  const prompt = findColumn(names, path, 'prompt', chosen?.prompt, PROMPT_NAMES);
  const response = findColumn(names, path, 'response', chosen?.response, RESPONSE_NAMES);
  const system = findColumn(names, path, 'system', chosen?.system, SYSTEM_NAMES, false);
  return rows.map(({ record, info }) => {
    // info.lines is the line a record ends on; quoted cells may span lines.
    const line = info.lines - record.reduce((n, cell) => n + (cell.match(/\n/g)?.length ?? 0), 0);
    const cell = (c: number) => (record[c] ?? '').trim();
    if (!cell(prompt)) return { line, error: `empty "${names[prompt]}"` };
    if (!cell(response)) return { line, error: `empty "${names[response]}", so there is nothing to learn` };
    const messages: ChatMessage[] = [];
    if (system !== -1 && cell(system)) messages.push({ role: 'system', content: cell(system) });
    messages.push({ role: 'user', content: cell(prompt) }, { role: 'assistant', content: cell(response) });
    return { line, messages };
  });
}

/** The header's column names (none for a file that is not valid CSV). */
export function csvHeader(text: string, path: string): string[] {
  try {
    const [first] = parse(text, { delimiter: delimiterOf(path), bom: true, to_line: 1 }) as string[][];
    return (first ?? []).map((h) => h.trim());
  } catch {
    return [];
  }
}

const delimiterOf = (path: string) => (/\.tsv$/i.test(path) ? '\t' : ',');

/**
 * The index of a role's column: the chosen name, else the first usual name the header has. A chosen
 * column that is missing, or a prompt or response column not found, is the user's to fix: an error
 * naming the file, the header's columns and the option that chooses it (promptColumn, responseColumn, systemColumn).
 */
function findColumn(
  names: string[],
  path: string,
  role: keyof CsvColumns,
  chosen: string | undefined,
  usual: string[],
  required = true,
): number {
  const lower = names.map((n) => n.toLowerCase());
  for (const w of chosen ? [chosen] : usual) {
    const i = lower.indexOf(w.toLowerCase());
    if (i !== -1) return i;
  }
  if (!chosen && !required) return -1;
  const option = `${role}Column`;
  const what = chosen
    ? `no ${role} column "${chosen}"`
    : `no ${role} column (looked for ${usual.join(', ')})`;
  throw new OptionError(
    [option],
    `${path}: ${what}; its columns are ${names.map((n) => `"${n}"`).join(', ')}; choose one with ${option} NAME`,
  );
}

/**
 * The rows as samples: conversations through the model's chat template, or without one the prompt
 * (after the system text) on its own line and the response as the completion.
 */
export function csvSamples(
  text: string,
  path: string,
  chat: ChatTemplate | null,
  chosen?: CsvColumns,
): { line: number; result: RecordResult }[] {
  return csvConversations(text, path, chosen).map((row) => {
    if ('error' in row) return { line: row.line, result: row };
    if (chat) return { line: row.line, result: recordSample({ messages: row.messages }, chat) };
    const prompt = row.messages.filter((m) => m.role !== 'assistant').map((m) => m.content);
    const completion = row.messages.at(-1)!.content;
    return { line: row.line, result: recordSample({ prompt: prompt.join('\n') + '\n', completion }, null) };
  });
}
