/**
 * Messages from the dashboard page, checked at run time before the host acts on them: the page is
 * a web page, and what it posts is only typed by our own code's promise. The message types the
 * host accepts are an explicit list; file names and CSV it would write are checked for shape.
 */
import type { WebviewMessage } from '../../../webview/protocol';

type PageMessageType = WebviewMessage['type'];

/** Every message type the host acts on; anything else is ignored (and logged). */
export const PAGE_MESSAGE_TYPES = [
  'ready',
  'ack',
  'stop',
  'resume',
  'export',
  'evaluate',
  'showSamples',
  'playground',
  'compare',
  'removeRun',
  'saveCsv',
] as const satisfies readonly PageMessageType[];

// A message type added to the protocol must be added above (this fails to compile otherwise).
const everyType: Exclude<PageMessageType, (typeof PAGE_MESSAGE_TYPES)[number]> extends never ? true : never =
  true;
void everyType;

const MAX_CSV_CHARS = 64 * 1024 * 1024;
const CSV_FILE_NAME = /^[\w-][\w.-]{0,200}\.csv$/;
const NUMBER_CELL = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** The message when it is one the host accepts, else why not (for the log line). */
export function checkPageMessage(raw: unknown): { message: WebviewMessage } | { rejected: string } {
  if (typeof raw !== 'object' || raw === null) return { rejected: 'not an object' };
  const m = raw as Record<string, unknown>;
  const type = m.type;
  if (typeof type !== 'string' || !(PAGE_MESSAGE_TYPES as readonly string[]).includes(type))
    return { rejected: `unknown message type ${JSON.stringify(type)}` };
  const why = problemOf(type as PageMessageType, m);
  return why ? { rejected: `${type}: ${why}` } : { message: m as WebviewMessage };
}

function problemOf(type: PageMessageType, m: Record<string, unknown>): string | undefined {
  switch (type) {
    case 'ack': {
      if (!count(m.points) || !(typeof m.drawMs === 'number' && m.drawMs >= 0))
        return 'points and drawMs must be numbers';
      if (typeof m.runs !== 'object' || m.runs === null) return 'runs must be an object';
      const bad = Object.values(m.runs).some(
        (r) => typeof r !== 'object' || r === null || !count((r as Record<string, unknown>).points),
      );
      return bad ? 'runs must map each run to its points' : undefined;
    }
    case 'removeRun':
      return typeof m.runDir === 'string' && m.runDir.length > 0 && m.runDir.length < 4096
        ? undefined
        : 'runDir must be a folder path';
    case 'saveCsv':
      if (typeof m.fileName !== 'string' || !CSV_FILE_NAME.test(m.fileName))
        return `fileName ${JSON.stringify(m.fileName)} is not a plain NAME.csv`;
      return typeof m.csv === 'string' ? csvProblem(m.csv) : 'csv must be text';
    default:
      return undefined; // the rest carry nothing but their type
  }
}

function count(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/**
 * The page's metrics CSV: a header of column names, then rows with as many cells, the run name
 * first and numbers (or nothing) after it; no cell a spreadsheet would run as a formula.
 */
function csvProblem(csv: string): string | undefined {
  if (csv.length > MAX_CSV_CHARS) return 'csv is too large';
  const lines = csv.split('\n').filter((l) => l !== '');
  const header = lines[0]?.split(',') ?? [];
  if (header.length < 2 || !header.every((h) => /^[a-z_]+$/.test(h)))
    return 'csv has no header of column names';
  for (let i = 1; i < lines.length; i++) {
    const cells = splitRow(lines[i]);
    if (!cells || cells.length !== header.length)
      return `csv line ${i + 1} does not have ${header.length} cells`;
    if (/^[=+@\t\r]/.test(cells[0])) return `csv line ${i + 1}: the run name starts like a formula`;
    if (cells.slice(1).some((c) => c !== '' && !NUMBER_CELL.test(c)))
      return `csv line ${i + 1}: a value is not a number`;
  }
  return undefined;
}

/** A row whose first cell may be quoted ("a ""b"", c"); the others are plain. */
function splitRow(line: string): string[] | undefined {
  if (!line.startsWith('"')) return line.split(',');
  const end = /^"((?:[^"]|"")*)"(,|$)/.exec(line);
  if (!end) return undefined;
  const rest = line.slice(end[0].length);
  return [end[1].replace(/""/g, '"'), ...(end[2] === ',' ? rest.split(',') : [])];
}
