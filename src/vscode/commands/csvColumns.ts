/**
 * CSV/TSV files added to a dataset: which columns hold the prompt, the response and the system
 * prompt. The dataset's own choice comes first, then the settings (localtune.datasets.csv*Column);
 * a role they leave open takes the usual header names, and when a file's header has none of them
 * the user picks the column from that header. The build checks the same way (data/formats/csv.ts).
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { chosenColumns, csvConversations, csvHeader, type CsvColumns } from '../../data/formats/csv';
import { OptionError } from '../../engine/errors';
import { csvColumnSettings } from '../settings';

const ROLE_TEXT: Record<keyof CsvColumns, string> = {
  prompt: "the user's prompt (the question, the ticket)",
  response: 'the reply the model learns to give',
  system: 'the system prompt',
};

export const isCsvFile = (path: string) => /\.(csv|tsv)$/i.test(path);

/**
 * The columns for `files` (undefined: none is a CSV file, or nothing chosen), or null when the user
 * cancelled a pick.
 */
export async function csvColumnsFor(
  files: string[],
  current: CsvColumns | undefined,
): Promise<CsvColumns | undefined | null> {
  let columns: CsvColumns = { ...csvColumnSettings(), ...current };
  for (const file of files.filter(isCsvFile)) {
    const header = headerText(file);
    for (let asked = 0; asked < 3; asked++) {
      const missing = missingRole(header, file, columns);
      if (!missing) break;
      const pick = await vscode.window.showQuickPick(missing.names, {
        title: `${basename(file)}: which column holds ${ROLE_TEXT[missing.role]}?`,
        placeHolder: missing.message,
      });
      if (!pick) return null;
      columns = { ...columns, [missing.role]: pick };
    }
  }
  return chosenColumns(columns);
}

/** The first role the header lacks a column for (the build's own check), with the header's names. */
function missingRole(
  header: string,
  file: string,
  columns: CsvColumns,
): { role: keyof CsvColumns; names: string[]; message: string } | undefined {
  try {
    csvConversations(header, file, columns);
    return undefined;
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    const role = err.options[0].replace(/Column$/, '') as keyof CsvColumns;
    return { role, names: csvHeader(header, file), message: err.message };
  }
}

/** The file's first line (its header), read without loading the whole file. */
function headerText(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8').split(/\r?\n/)[0] + '\n';
  } finally {
    closeSync(fd);
  }
}
