/**
 * Download progress as text lines, for the CLI (which prints lines on stderr) and logs.
 * The CLI calls `resolveModelForCli(values.model, io.err)` wherever it takes `--model DIR|ID`.
 */
import { resolveModel, type DownloadProgress, type ResolveOptions } from './hub';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

export function formatBytes(n: number): string {
  let i = 0;
  while (n >= 1000 && i < UNITS.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${UNITS[i]}`;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/** `model.safetensors  12.3 MB / 54.0 MB (23%)  4.1 MB/s  ETA 10s`. */
export function formatProgress(p: DownloadProgress): string {
  const pct = p.total > 0 ? ` (${Math.floor((100 * p.bytes) / p.total)}%)` : '';
  const done = p.bytes >= p.total;
  const tail = done ? 'done' : `${formatBytes(p.bytesPerSec)}/s  ETA ${formatSeconds(p.etaSec)}`;
  return `${p.file}  ${formatBytes(p.bytes)} / ${formatBytes(p.total)}${pct}  ${tail}`;
}

/**
 * A progress callback that writes a line per file at most every `everyMs`, and always its last one.
 */
export function progressLines(write: (line: string) => void, everyMs = 2000): (p: DownloadProgress) => void {
  const last = new Map<string, number>();
  return (p) => {
    const now = Date.now();
    const done = p.bytes >= p.total;
    const prev = last.get(p.file);
    if (!done && prev !== undefined && now - prev < everyMs) return;
    last.set(p.file, now);
    write(`downloading ${formatProgress(p)}`);
  };
}

/**
 * `--model DIR|ID` for a CLI command: a local folder as is, or a hub id downloaded into the hub
 * cache with progress lines on `write` (stderr). Errors are UserErrors (exit code 2).
 */
export async function resolveModelForCli(
  idOrDir: string,
  write: (line: string) => void,
  o: Omit<ResolveOptions, 'onProgress'> = {},
): Promise<string> {
  return resolveModel(idOrDir, { ...o, onProgress: progressLines(write) });
}
