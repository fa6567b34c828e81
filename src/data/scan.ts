// Walks a workspace folder the way git sees it: .gitignore at every level, .git/info/exclude and
// .localtuneignore, plus the user's include/exclude patterns and the vendored-folder list.
// Yields file entries without reading their content; every skip is counted by reason.
import {
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  realpathSync,
  statSync,
  type Stats,
} from 'node:fs';
import { join, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { isCredentialFile, namesCredentialFile } from './filters';
import { countSkip, type SkipCounts, type SkipReason } from './skips';

export interface FileEntry {
  absPath: string;
  /** Path relative to the scanned root, with forward slashes. */
  relPath: string;
  size: number;
  mtimeMs: number;
  /** A key or credential file that an include pattern names: read it although its name says skip. */
  onPurpose?: boolean;
}

export interface ScanOptions {
  /** gitignore-style patterns; when given, only matching files are kept. */
  include?: string[];
  /** gitignore-style patterns of files or folders to leave out. */
  exclude?: string[];
  /** Files larger than this are skipped as 'too-large' (default 1 MiB). */
  maxFileBytes?: number;
  /** Folders never to enter (absolute), e.g. the dataset being written inside the workspace. */
  skipDirs?: string[];
  onWarning?: (message: string) => void;
  /** Called for each file or folder left out by a rule (not for .gitignore / include misses: counted only). */
  onSkip?: (relPath: string, reason: SkipReason, isDir: boolean) => void;
}

/** Folders of other people's or generated code: never the user's own style. */
export const VENDORED_DIRS = new Set([
  'node_modules',
  'bower_components',
  'jspm_packages',
  'vendor',
  'third_party',
  'third-party',
  'thirdparty',
  'external',
  'dist',
  'build',
  'out',
  'target',
  '.venv',
  'venv',
  'site-packages',
  '__pycache__',
  '.tox',
  '.nox',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  '.gradle',
  '.next',
  '.nuxt',
  '.svelte-kit',
  '.turbo',
  '.parcel-cache',
  'coverage',
  'Pods',
  'Carthage',
  '.terraform',
]);

// Tool folders whose content is never training data (and .localtune holds our own output).
const ALWAYS_SKIPPED = new Set(['.git', '.hg', '.svn', '.localtune', '.idea', '.vs']);

export const DEFAULT_MAX_FILE_BYTES = 1 << 20;

interface Rules {
  /** Folder of the rule file, relative to the root ('' for the root). */
  base: string;
  matcher: Ignore;
  reason: SkipReason;
}

export class WorkspaceScanner {
  readonly skips: SkipCounts = {};
  private readonly include: Ignore | null;
  /** The include patterns that name credential files (null when none do). */
  private readonly credentialInclude: Ignore | null;
  /** Null when there are no exclude patterns (asking `ignore` about every path costs time). */
  private readonly exclude: Ignore | null;
  private readonly maxFileBytes: number;
  private readonly visitedDirs = new Set<string>();
  private readonly realRoot: string;
  private readonly skipDirs: Set<string>;

  constructor(
    readonly root: string,
    private readonly opts: ScanOptions = {},
  ) {
    // Patterns naming credential files ("Include anyway") add those files; they do not narrow the
    // scan to themselves the way other include patterns do.
    const narrowing = (opts.include ?? []).filter((p) => !namesCredentialFile(p));
    this.include = narrowing.length ? ignore().add(narrowing) : null;
    const naming = (opts.include ?? []).filter(namesCredentialFile);
    this.credentialInclude = naming.length ? ignore().add(naming) : null;
    this.exclude = opts.exclude?.length ? ignore().add(opts.exclude) : null;
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.realRoot = realpathSync(root);
    this.skipDirs = new Set((opts.skipDirs ?? []).map((d) => (existsSync(d) ? realpathSync(d) : d)));
  }

  /** Files in a stable order (sorted by path), so builds are deterministic. */
  *files(): Generator<FileEntry> {
    const rootRules: Rules[] = [];
    const exclude = readOptional(join(this.root, '.git', 'info', 'exclude'));
    if (exclude !== null) rootRules.push({ base: '', matcher: ignore().add(exclude), reason: 'gitignored' });
    this.visitedDirs.add(this.realRoot);
    yield* this.walk('', rootRules);
  }

  private *walk(relDir: string, parentRules: Rules[]): Generator<FileEntry> {
    const absDir = relDir ? join(this.root, relDir) : this.root;
    const rules = [...parentRules, ...this.rulesIn(absDir, relDir)];
    let names: string[];
    try {
      names = readdirSync(absDir).sort();
    } catch (err) {
      this.warn(`${absDir}: cannot read folder (${(err as Error).message}); skipped`);
      countSkip(this.skips, 'unreadable');
      return;
    }
    for (const name of names) {
      const relPath = relDir ? `${relDir}/${name}` : name;
      const absPath = join(absDir, name);
      let st: Stats;
      try {
        st = lstatSync(absPath);
        if (st.isSymbolicLink()) {
          const target = this.followLink(absPath);
          if (typeof target === 'string') {
            countSkip(this.skips, target);
            continue;
          }
          st = target;
        }
      } catch (err) {
        this.warn(`${absPath}: cannot read (${(err as Error).message}); skipped`);
        countSkip(this.skips, 'unreadable');
        continue;
      }
      const isDir = st.isDirectory();
      if (isDir && ALWAYS_SKIPPED.has(name)) continue;
      const reason = this.skipReason(relPath, isDir, name, rules);
      if (reason) {
        countSkip(this.skips, reason);
        if (reason !== 'gitignored' && reason !== 'localtuneignored')
          this.opts.onSkip?.(relPath, reason, isDir);
        continue;
      }
      if (isDir) {
        // A folder reached twice (through a link) is a loop or a duplicate; read it once.
        const real = realpathSync(absPath);
        if (this.skipDirs.has(real)) continue;
        if (this.visitedDirs.has(real)) {
          countSkip(this.skips, 'symlink-loop');
          continue;
        }
        this.visitedDirs.add(real);
        yield* this.walk(relPath, rules);
      } else if (st.isFile()) {
        const named = this.credentialInclude?.ignores(relPath) ?? false;
        if (this.include && !this.include.ignores(relPath) && !named) {
          countSkip(this.skips, 'not-included');
        } else if (st.size > this.maxFileBytes) {
          countSkip(this.skips, 'too-large');
          this.opts.onSkip?.(relPath, 'too-large', false);
        } else {
          const entry: FileEntry = { absPath, relPath, size: st.size, mtimeMs: st.mtimeMs };
          if (this.credentialInclude?.ignores(relPath) && isCredentialFile(name)) entry.onPurpose = true;
          yield entry;
        }
      }
    }
  }

  /** Stats a link's target, or says why it is skipped: links never lead out of the workspace. */
  private followLink(absPath: string): Stats | SkipReason {
    let real: string;
    try {
      real = realpathSync(absPath);
    } catch (err) {
      // ELOOP: a link that points at itself (directly or through others).
      if ((err as NodeJS.ErrnoException).code === 'ELOOP') return 'symlink-loop';
      this.warn(`${absPath}: broken link (${(err as Error).message}); skipped`);
      return 'unreadable';
    }
    if (real !== this.realRoot && !real.startsWith(this.realRoot + sep)) return 'symlink-outside';
    return statSync(real);
  }

  private skipReason(relPath: string, isDir: boolean, name: string, rules: Rules[]): SkipReason | null {
    if (isDir && VENDORED_DIRS.has(name)) return 'vendored';
    // git semantics: the deepest rule file that speaks about a path wins; `!pattern` re-includes.
    let verdict: SkipReason | null = null;
    for (const r of rules) {
      const sub = r.base ? relPath.slice(r.base.length + 1) : relPath;
      const t = r.matcher.test(isDir ? `${sub}/` : sub);
      if (t.ignored) verdict = r.reason;
      else if (t.unignored) verdict = null;
    }
    if (verdict) return verdict;
    if (this.exclude?.ignores(isDir ? `${relPath}/` : relPath)) return 'excluded';
    return null;
  }

  private rulesIn(absDir: string, relDir: string): Rules[] {
    const found: Rules[] = [];
    const git = readOptional(join(absDir, '.gitignore'));
    if (git !== null) found.push({ base: relDir, matcher: ignore().add(git), reason: 'gitignored' });
    const own = readOptional(join(absDir, '.localtuneignore'));
    if (own !== null) found.push({ base: relDir, matcher: ignore().add(own), reason: 'localtuneignored' });
    return found;
  }

  private warn(message: string): void {
    this.opts.onWarning?.(message);
  }
}

function readOptional(path: string): string | null {
  if (!existsSync(path)) return null;
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
