// Builds a dataset folder: scan -> filter -> scrub -> dedup -> split -> format/FIM -> tokenize -> pack.
// Pass 1 reads each new or changed file once and keeps only fingerprints (memory stays bounded);
// dedup and the split then run over all fingerprints; pass 2 packs the kept documents, taking
// token ids from the cache and tokenizing only documents it has not seen.
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlink,
  writeFileSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { OptionError, UserError } from '../engine/errors';
import { loadTokenizer, type Tokenizer } from '../engine/tokenizer/tokenizer';
import { Rng } from '../engine/rng';
import { BuildCache, signature, type CachedDoc, type CachedFile } from './cache';
import { DEFAULT_NEAR_THRESHOLD, Deduper, fingerprint } from './dedup';
import { findFimTokens } from '../engine/tokenizer/fimTokens';
import { FIM_PIECE_CHARS, fimSample } from './fim';
import { skipByName, MAX_LINE_CHARS } from './filters';
import { ChatTemplate } from './formats/chat';
import { chosenColumns, type CsvColumns } from './formats/csv';
import {
  DATASET_FILES,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  type DatasetManifest,
  type HeldOutFile,
  type HeldOutRecord,
  type StreamSegment,
} from './manifest';
import { FileListing } from './listing';
import { PackWriter, SEGMENT_FILE, type SegmentShape } from './pack';
import { defaultWorkers, prepareFile, PreparePool, sampleText, type Prepared } from './prepare';
import { DEFAULT_MAX_FILE_BYTES, WorkspaceScanner } from './scan';
import type { ScrubAllow, ScrubFinding, SecretKind } from './scrub';
import { countSkip, type SkipCounts } from './skips';
import { processFile, readSourceFile, sourceKind, type SourceDoc, type SourceKind } from './sources';
import {
  DEFAULT_HOLDOUT_FLOOR,
  splitByFile,
  splitByFolder,
  splitByRecency,
  withHoldOutFloor,
  type SplitMethod,
} from './split';
import { SampleEncoder } from './tokenize';

export interface BuildOptions {
  /** Workspace folders, text files and JSONL files. */
  sources: string[];
  outDir: string;
  /** Model folder: its tokenizer, FIM tokens and chat template are used. */
  modelDir: string;
  /** Already loaded from modelDir (saves loading it twice). */
  tokenizer?: Tokenizer;
  include?: string[];
  exclude?: string[];
  maxFileBytes?: number;
  fimRate?: number;
  spmRate?: number;
  split?: SplitMethod;
  valFraction?: number;
  seed?: number;
  nearThreshold?: number;
  /** CSV/TSV sources: the prompt, response and system columns by name (else the usual names). */
  csvColumns?: CsvColumns;
  /** False positives the user marked in the scrub report, by file id (as the report names it). */
  scrubAllow?: Record<string, ScrubAllow[]>;
  onWarning?: (message: string) => void;
  /** Worker threads for reading, scrubbing and fingerprinting files (0: the build's own thread). */
  workers?: number;
  /** Where the packed streams are cut into segment files (tests make small ones). */
  segments?: SegmentShape;
}

export interface BuildResult {
  manifest: DatasetManifest;
  outDir: string;
  /** Source files whose bytes were read in this build (the rest came from the cache by size+mtime). */
  filesRead: number;
  /** Documents tokenized in this build (the rest came from the cache). */
  documentsTokenized: number;
  /** Worker threads that read and prepared files (0: all in the build's own thread). */
  workerThreads: number;
}

interface Source {
  path: string;
  kind: SourceKind;
  /** Prefix of file ids from this source ('' when it is the only one). */
  label: string;
  /** Its index in the manifest's sources. */
  index: number;
  documents: number;
}

/** A document after pass 1: where it lives and its fingerprints. */
interface DocRef {
  fileId: string;
  source: Source;
  absPath: string;
  relPath: string;
  doc: CachedDoc;
  splitKey: string;
}

// Documents rendered in pass 1 are kept for pass 2 up to this many characters, so new files are
// not read twice; beyond it they are read again.
const PENDING_CHARS = 64 << 20;
// Worker threads start when this many files need reading (fewer take less time than starting them).
const WORKERS_AFTER = 200;
// Files read ahead of the one whose result is taken next (bounds memory: results wait in order).
const QUEUE_FILES = 1024;
const QUEUE_BYTES = 64 << 20;

export async function buildDataset(opts: BuildOptions): Promise<BuildResult> {
  const outDir = resolve(opts.outDir);
  const modelDir = resolve(opts.modelDir);
  const seed = opts.seed ?? 0;
  const fimRate = opts.fimRate ?? 0.5;
  const spmRate = opts.spmRate ?? 0.5;
  const valFraction = opts.valFraction ?? 0.1;
  const splitMethod = opts.split ?? 'file';
  const maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  checkRange('fimRate', fimRate, 0, 1);
  checkRange('spmRate', spmRate, 0, 1);
  checkRange('valFraction', valFraction, 0, 0.9);
  const sources = resolveSources(opts.sources);

  const tokenizer = opts.tokenizer ?? (await loadTokenizer(modelDir));
  if (tokenizer.eosId === null)
    throw new UserError(`${modelDir}: the tokenizer has no EOS token, so documents cannot be separated`);
  const tokenizerBytes = readFileSync(join(modelDir, 'tokenizer.json'));
  const tokenizerSha256 = sha256(tokenizerBytes);
  const fim = findFimTokens(tokenizer);
  const chat = ChatTemplate.fromModelDir(modelDir);
  const allow = opts.scrubAllow ?? {};
  const csvColumns = chosenColumns(opts.csvColumns);
  const warn = opts.onWarning ?? (() => {});
  const minhashSeed = new Rng(seed).fork('minhash').nextU32();

  mkdirSync(outDir, { recursive: true });
  removeLeftovers(outDir);
  const configKey = sha256(
    JSON.stringify({ tokenizerSha256, seed, fimRate, spmRate, allow, csvColumns, v: MANIFEST_VERSION }),
  );
  const cache = new BuildCache(join(outDir, 'cache'), configKey);
  // Worker threads of pass 1, started when many files need reading.
  const threads: { pool: PreparePool | null; tried: boolean } = { pool: null, tried: false };
  // The cache holds open files and the pool threads: close them however the build ends.
  try {
    const skipped: SkipCounts = {};
    const live = new Set<string>();
    const listing = new FileListing();
    const refs: DocRef[] = [];
    const pending = new Map<string, SourceDoc[]>();
    let pendingChars = 0;
    let filesRead = 0;
    let workerThreads = 0;
    let malformed = 0;

    // Pass 1: every file's verdict and fingerprints, from the cache when its size and mtime match.
    // Files to read go to worker threads when there are many; results are taken in scan order.
    interface Visit {
      source: Source;
      absPath: string;
      relPath: string;
      fileId: string;
      size: number;
      mtimeMs: number;
      entry?: CachedFile;
      prepared?: Prepared | Promise<Prepared>;
    }
    const queue: Visit[] = [];
    let queuedBytes = 0;
    const wantWorkers = opts.workers ?? defaultWorkers();
    let reads = 0;

    const finish = async (v: Visit) => {
      let entry = v.entry;
      if (v.prepared) {
        queuedBytes -= v.size;
        threads.pool?.flush();
        const p = await v.prepared;
        if ('error' in p) {
          warn(`${v.absPath}: cannot read (${p.error}); skipped`);
          countSkip(skipped, 'unreadable');
          return;
        }
        filesRead++;
        if ('unchanged' in p) {
          entry = { ...entry!, size: v.size, mtimeMs: v.mtimeMs }; // touched, not changed
        } else {
          entry = { size: v.size, mtimeMs: v.mtimeMs, contentHash: p.contentHash };
          if ('skip' in p) entry.skip = p.skip;
          else {
            entry.findings = p.findings;
            entry.malformed = p.malformed;
            entry.docs = p.docs.map((d) => ({ line: d.line, exact: d.exact, sig: cache.appendSig(d.sig) }));
            if (p.sourceDocs) pending.set(v.fileId, p.sourceDocs);
          }
        }
        cache.set(v.fileId, entry);
      } else if (entry!.malformed) {
        warn(
          `${v.absPath}: ${entry!.malformed} malformed line(s) skipped (reported when the file was first read)`,
        );
      }
      if (entry!.skip) {
        countSkip(skipped, entry!.skip);
        listing.skip(v.fileId, v.absPath, v.source.index, entry!.skip);
        return;
      }
      listing.findings(v.fileId, entry!.findings);
      malformed += entry!.malformed ?? 0;
      for (const doc of entry!.docs ?? []) {
        const splitKey = doc.line === null ? v.fileId : `${v.fileId}:${doc.line}`;
        refs.push({
          fileId: v.fileId,
          source: v.source,
          absPath: v.absPath,
          relPath: v.relPath,
          doc,
          splitKey,
        });
        v.source.documents++;
      }
    };

    const fileIdOf = (source: Source, absPath: string, relPath: string) =>
      source.label ? (relPath ? `${source.label}/${relPath}` : source.label) : relPath || basename(absPath);

    // A key or credential file is not read, but listed (the Datasets view shows it with its reason).
    const recordCredentialFile = (source: Source, relPath: string, size: number, mtimeMs: number) => {
      const fileId = fileIdOf(source, source.path, relPath);
      live.add(fileId);
      listing.skip(fileId, join(source.path, relPath), source.index, 'credential-file');
      const e = cache.get(fileId);
      if (e?.skip !== 'credential-file' || e.size !== size || e.mtimeMs !== mtimeMs)
        cache.set(fileId, { size, mtimeMs, contentHash: '', skip: 'credential-file' });
      countSkip(skipped, 'credential-file');
    };

    const visit = async (source: Source, absPath: string, relPath: string, size: number, mtimeMs: number) => {
      const fileId = fileIdOf(source, absPath, relPath);
      live.add(fileId);
      listing.meet(fileId, absPath, source.index, { size, mtimeMs });
      const v: Visit = { source, absPath, relPath, fileId, size, mtimeMs, entry: cache.get(fileId) };
      // (a credential file listed by an earlier build and now included on purpose is read)
      if (
        !v.entry ||
        v.entry.size !== size ||
        v.entry.mtimeMs !== mtimeMs ||
        v.entry.skip === 'credential-file'
      ) {
        const keepText = pendingChars + size <= PENDING_CHARS;
        if (keepText) pendingChars += size;
        const job = { absPath, knownHash: v.entry?.contentHash, allow: allow[fileId], keepText };
        // Workers start once enough files need reading to pay for them (or when asked for).
        if (!threads.tried && wantWorkers > 0 && (++reads >= WORKERS_AFTER || opts.workers)) {
          threads.tried = true;
          threads.pool = PreparePool.create(wantWorkers, minhashSeed);
          if (threads.pool) workerThreads = wantWorkers;
        }
        if (threads.pool && source.kind !== 'jsonl') {
          v.prepared = threads.pool.prepare(job, size);
        } else {
          v.prepared = prepareFile(job, minhashSeed, {
            kind: source.kind,
            chat,
            csvColumns,
            onWarning: warn,
          });
        }
        queuedBytes += size;
      }
      queue.push(v);
      while (queue.length > 0 && (queue.length > QUEUE_FILES || queuedBytes > QUEUE_BYTES || !threads.pool))
        await finish(queue.shift()!);
    };

    for (const source of sources) {
      if (source.kind === 'workspace') {
        const scanner = new WorkspaceScanner(source.path, {
          include: opts.include,
          exclude: opts.exclude,
          maxFileBytes,
          skipDirs: [outDir],
          onWarning: warn,
          onSkip: (relPath, reason, isDir) =>
            listing.skip(
              fileIdOf(source, '', relPath),
              join(source.path, relPath),
              source.index,
              reason,
              isDir,
            ),
        });
        for (const f of scanner.files()) {
          const byName = skipByName(f.relPath, f.onPurpose);
          if (byName === 'credential-file') recordCredentialFile(source, f.relPath, f.size, f.mtimeMs);
          else if (byName) {
            countSkip(skipped, byName);
            const id = fileIdOf(source, f.absPath, f.relPath);
            listing.meet(id, f.absPath, source.index, f);
            listing.skip(id, f.absPath, source.index, byName);
          } else await visit(source, f.absPath, f.relPath, f.size, f.mtimeMs);
        }
        for (const [reason, n] of Object.entries(scanner.skips))
          countSkip(skipped, reason as keyof SkipCounts, n);
      } else {
        const st = statSync(source.path);
        await visit(source, source.path, '', st.size, st.mtimeMs);
      }
    }
    while (queue.length > 0) await finish(queue.shift()!);
    await threads.pool?.close();
    threads.pool = null;
    if (malformed) countSkip(skipped, 'malformed-record', malformed);

    // Dedup in build order: the first copy is kept.
    const deduper = new Deduper(opts.nearThreshold ?? DEFAULT_NEAR_THRESHOLD);
    const sigs = cache.readSigs();
    const kept = refs.filter((r) => {
      const v = deduper.check(r.splitKey, r.doc.exact, signature(sigs, r.doc.sig));
      if (v.duplicate) {
        countSkip(skipped, v.duplicate);
        listing.duplicate(r.fileId, r.doc.line, v.duplicate, v.of);
      }
      return !v.duplicate;
    });
    if (kept.length === 0) throw emptyResult(opts.sources, skipped);

    const validation = splitKept(kept, splitMethod, valFraction, seed);

    // Pass 2: pack, tokenizing what the cache lacks.
    const encoder = new SampleEncoder(tokenizer, tokenizer.eosId, parseJson(tokenizerBytes));
    const fimRng = new Rng(seed).fork('fim');
    const train = new PackWriter(outDir, 'train', cache, opts.segments);
    const val = new PackWriter(outDir, 'validation', cache, opts.segments);
    let documentsTokenized = 0;
    let fimDocuments = 0;
    const trainFiles = new Set<string>();
    const valFiles = new Set<string>();
    const heldOut: HeldOutFile[] = [];
    const heldOutRecords: HeldOutRecord[] = [];
    for (const ref of kept) {
      if (!ref.doc.tokens) {
        const sample = renderAgain(ref, pending, { chat, csvColumns, allow: allow[ref.fileId] }, minhashSeed);
        const docId = ref.splitKey;
        const shaped = sample.fimable
          ? fimSample(sampleText(sample.sample), fim, { fimRate, spmRate }, fimRng.fork(docId), tokenizer)
          : sample.sample;
        const enc = encoder.encode(shaped);
        ref.doc.tokens = cache.appendTokens(enc.ids, enc.weights);
        ref.doc.fim = shaped.some((s) => 'ids' in s);
        cache.set(ref.fileId, cache.get(ref.fileId)!); // its entry changed: saved again
        documentsTokenized++;
      }
      if (ref.doc.fim) fimDocuments++;
      const isVal = validation.has(ref.splitKey);
      (isVal ? val : train).add(ref.doc.tokens);
      (isVal ? valFiles : trainFiles).add(ref.fileId);
      listing.kept(ref.fileId, ref.doc.tokens.length, isVal ? 'validation' : 'train');
      if (isVal && ref.doc.line === null) heldOut.push({ id: ref.fileId, path: ref.absPath });
      else if (isVal) heldOutRecords.push({ id: ref.fileId, path: ref.absPath, line: ref.doc.line! });
    }
    // The streams' missing segments are copied on libuv's threads while this one saves the cache
    // index. (Settled before anything else happens, even if the save throws: the cache closes its blobs.)
    const contentHash = sha256([train.documentsHash, val.documentsHash].map((h) => h.digest('hex')).join(''));
    const segments = { train: train.segments(), validation: val.segments() };
    const writing = Promise.allSettled([train.write(), val.write()]);
    try {
      cache.save(live);
    } finally {
      await writing;
    }
    for (const w of await writing) if (w.status === 'rejected') throw w.reason;

    const scrubReport = scrubReportOf(live, cache);
    const manifest: DatasetManifest = {
      format: 'localtune-dataset',
      version: MANIFEST_VERSION,
      name: basename(outDir),
      createdAt: new Date().toISOString(),
      sources: sources.map((s) => ({ path: s.path, kind: s.kind, documents: s.documents })),
      filters: {
        include: opts.include ?? [],
        exclude: opts.exclude ?? [],
        maxFileBytes,
        maxLineChars: MAX_LINE_CHARS,
      },
      skipped,
      malformedRecords: malformed,
      documents: { train: train.documents, validation: val.documents },
      files: { train: trainFiles.size, validation: valFiles.size },
      tokens: { train: train.tokens, validation: val.tokens },
      segments,
      lossTokens: { train: train.lossTokens, validation: val.lossTokens },
      scrub: { ...scrubReport.summary, report: DATASET_FILES.scrubReport },
      dedup: deduper.summary(),
      split: { method: splitMethod, valFraction },
      fim: {
        rate: fimRate,
        spmRate,
        style: fim?.style ?? null,
        documents: fimDocuments,
        pieceChars: FIM_PIECE_CHARS,
      },
      seed,
      tokenizer: {
        modelPath: modelDir,
        tokenizerSha256,
        vocabSize: tokenizer.vocabSize,
        eosId: tokenizer.eosId,
      },
      contentHash,
      heldOut: {
        files: heldOut.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
        records: heldOutRecords,
      },
      ...(csvColumns ? { csvColumns } : {}),
      listing: listing.list(),
    };
    writeJsonAtomic(join(outDir, DATASET_FILES.scrubReport), { files: scrubReport.files });
    writeJsonAtomic(join(outDir, MANIFEST_FILE), manifest);
    removeUnreferenced(outDir, segments);
    return { manifest, outDir, filesRead, documentsTokenized, workerThreads };
  } finally {
    cache.close();
    await threads.pool?.close();
  }
}

function resolveSources(paths: string[]): Source[] {
  if (paths.length === 0)
    throw new OptionError(
      ['sources'],
      'nothing to build from; pass sources with a folder, text file or JSONL file',
    );
  const labels = new Set<string>();
  return paths.map((p, i) => {
    const path = resolve(p);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new OptionError(['sources'], `${p}: no such file or folder; check the sources path`);
    }
    try {
      accessSync(path, constants.R_OK);
    } catch {
      throw new UserError(`${p}: cannot be read (permission denied); check its permissions`);
    }
    let label = '';
    if (paths.length > 1) {
      label = basename(path);
      if (labels.has(label)) label = `${label}#${i}`;
      labels.add(label);
    }
    return { path, kind: isDir ? 'workspace' : sourceKind(path), label, index: i, documents: 0 };
  });
}

/** The document again, for tokenizing: from pass 1's memory, or by reading its file once more. */
function renderAgain(
  ref: DocRef,
  pending: Map<string, SourceDoc[]>,
  opts: { chat: ChatTemplate | null; csvColumns?: CsvColumns; allow?: ScrubAllow[] },
  minhashSeed: number,
): SourceDoc {
  let docs = pending.get(ref.fileId);
  if (!docs) {
    const result = processFile(ref.absPath, ref.source.kind, readSourceFile(ref.absPath), {
      ...opts,
      scrub: true,
    });
    docs = 'docs' in result ? result.docs : [];
    pending.set(ref.fileId, docs);
  }
  const doc = docs.find((d) => d.line === ref.doc.line);
  if (!doc || fingerprint(sampleText(doc.sample), minhashSeed).exact !== ref.doc.exact)
    throw new UserError(`${ref.absPath}: changed while the dataset was being built; build again`);
  return doc;
}

/**
 * Tokens per split key, estimated before tokenizing (a file's bytes / 4; a record 64): the same for
 * a fresh and an incremental build, so both split alike.
 */
function approximateTokens(kept: DocRef[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const r of kept) {
    let n: number;
    try {
      n = r.doc.line === null ? Math.ceil(statSync(r.absPath).size / 4) : 64;
    } catch {
      n = 0;
    }
    sizes.set(r.splitKey, (sizes.get(r.splitKey) ?? 0) + n);
  }
  return sizes;
}

function splitKept(kept: DocRef[], method: SplitMethod, valFraction: number, seed: number): Set<string> {
  const keys = [...new Set(kept.map((r) => r.splitKey))];
  if (method === 'file')
    // Sized by tokens: a floor of held-out tokens and files, topped up in the draw's stable order.
    return withHoldOutFloor(splitByFile(keys, valFraction, seed), keys, seed, {
      sizes: approximateTokens(kept),
      ...DEFAULT_HOLDOUT_FLOOR,
    });
  if (method === 'folder') {
    // Workspace files group by their top-level folder (with its source's label, so two sources
    // never share a group, and the draw does not change when the workspace moves); records and
    // loose files are groups of their own.
    const groups = new Map<string, string>();
    for (const r of kept) {
      const slash = r.relPath.indexOf('/');
      const folder = r.source.kind === 'workspace' && slash > 0 ? r.relPath.slice(0, slash) : r.splitKey;
      groups.set(r.splitKey, `${r.source.label}\0${folder}`);
    }
    return splitByFolder(groups, valFraction, seed);
  }
  // Recency applies to workspace files (git knows them); records and loose files split by draw.
  const val = new Set<string>();
  const byRoot = new Map<string, Map<string, string>>();
  const others: string[] = [];
  for (const r of kept) {
    if (r.source.kind !== 'workspace') others.push(r.splitKey);
    else {
      const paths = byRoot.get(r.source.path) ?? new Map<string, string>();
      paths.set(r.splitKey, r.relPath);
      byRoot.set(r.source.path, paths);
    }
  }
  for (const [root, paths] of byRoot) for (const k of splitByRecency(root, paths, valFraction)) val.add(k);
  for (const k of splitByFile([...new Set(others)], valFraction, seed)) val.add(k);
  return val;
}

function emptyResult(sources: string[], skipped: SkipCounts): UserError {
  const reasons = Object.entries(skipped).sort((a, b) => b[1] - a[1]);
  if (reasons.length === 0)
    return new OptionError(
      ['sources', 'include'],
      `${sources.join(', ')}: no files found; check the sources paths and include patterns`,
    );
  const list = reasons.map(([r, n]) => `${n} ${r}`).join(', ');
  return new UserError(
    `${sources.join(', ')}: every document was filtered out (${list}); most by '${reasons[0][0]}': loosen that filter or add files`,
  );
}

function scrubReportOf(
  live: Set<string>,
  cache: BuildCache,
): {
  files: { file: string; findings: ScrubFinding[] }[];
  summary: { findings: Partial<Record<SecretKind, number>>; filesWithFindings: number; allowed: number };
} {
  const files: { file: string; findings: ScrubFinding[] }[] = [];
  const findings: Partial<Record<SecretKind, number>> = {};
  let allowed = 0;
  for (const file of [...live].sort()) {
    const f: CachedFile | undefined = cache.get(file);
    if (!f?.findings?.length) continue;
    files.push({ file, findings: f.findings });
    for (const x of f.findings) {
      if (x.allowed) allowed += x.count;
      else findings[x.kind] = (findings[x.kind] ?? 0) + x.count;
    }
  }
  return { files, summary: { findings, filesWithFindings: files.length, allowed } };
}

function checkRange(option: string, value: number, lo: number, hi: number): void {
  if (!(Number.isFinite(value) && value >= lo && value <= hi))
    throw new OptionError([option], `${option} ${value}: must be a number from ${lo} to ${hi}`);
}

/** tokenizer.json for the encoder's pre-token check (loadTokenizer has already vetted it). */
function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

// Streams of datasets written before segments (one file per stream), and what builds before that
// left to remove in the background.
const OLD_STREAM_FILES: Set<string> = new Set([
  DATASET_FILES.trainIds,
  DATASET_FILES.trainWeights,
  DATASET_FILES.validationIds,
  DATASET_FILES.validationWeights,
]);
const REPLACED = /\.replaced-\d+-\d+$/;

function removeInBackground(paths: string[]): void {
  for (const path of paths) unlink(path, () => {});
}

/** Removes what an interrupted build left: half-written segments, files it meant to remove. */
function removeLeftovers(outDir: string): void {
  removeInBackground(
    readdirSync(outDir)
      .filter((n) => REPLACED.test(n) || (SEGMENT_FILE.test(n) && n.endsWith('.tmp')))
      .map((n) => join(outDir, n)),
  );
}

/**
 * Once the manifest names the new segments: removes (in the background: freeing a large file's
 * blocks costs the kernel time) the segments it no longer names and the unsegmented streams of an
 * older build.
 */
function removeUnreferenced(
  outDir: string,
  segments: { train: StreamSegment[]; validation: StreamSegment[] },
): void {
  const keep = new Set([...segments.train, ...segments.validation].flatMap((s) => [s.ids, s.weights]));
  removeInBackground(
    readdirSync(outDir)
      .filter((n) => OLD_STREAM_FILES.has(n) || (SEGMENT_FILE.test(n) && !n.endsWith('.tmp') && !keep.has(n)))
      .map((n) => join(outDir, n)),
  );
}

function writeJsonAtomic(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(value, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}
