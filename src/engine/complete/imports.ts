/**
 * The files a source file imports by relative path (`./util`, `../lib/x.js`, Python's
 * `from .mod import f`), resolved on disk: what the completion context reads beside the open
 * editors. Package imports (`react`, `os`) are not the user's code and are left out.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const JS_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];
/** Relative specifiers in import/export-from/require/import() of JS and TS. */
const JS_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
/** Python relative imports: `from .a.b import c`, `from .. import d`. */
const PY_IMPORT = /^\s*from\s+(\.+)([\w.]*)\s+import\s+([\w, ]+)/gm;

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function resolveJs(base: string): string | undefined {
  if (isFile(base)) return base;
  // TypeScript's ESM style names the emitted `.js`: the source is `.ts`.
  const stem = base.replace(/\.(m|c)?jsx?$/, '');
  for (const ext of JS_EXTENSIONS) if (isFile(stem + ext)) return stem + ext;
  for (const ext of JS_EXTENSIONS) if (isFile(join(base, `index${ext}`))) return join(base, `index${ext}`);
  return undefined;
}

/** Absolute paths of the files `file` imports by relative path, in the order they appear. */
export function relativeImports(file: string, text: string, languageId: string): string[] {
  const dir = dirname(file);
  const found: string[] = [];
  const add = (p: string | undefined) => {
    if (p && p !== file && !found.includes(p)) found.push(p);
  };
  if (languageId === 'python') {
    for (const m of text.matchAll(PY_IMPORT)) {
      let base = dir;
      for (let i = 1; i < m[1].length; i++) base = dirname(base);
      const mod = m[2] ? join(base, ...m[2].split('.')) : base;
      if (m[2]) add([`${mod}.py`, join(mod, '__init__.py')].find(isFile));
      // `from . import a, b`: each name may be a module beside this one.
      else
        for (const name of m[3].split(',').map((n) => n.trim().split(/\s+/)[0]))
          add([join(mod, `${name}.py`)].find(isFile));
    }
    return found;
  }
  for (const m of text.matchAll(JS_IMPORT)) add(resolveJs(resolve(dir, m[1])));
  return found.filter((p) => existsSync(p));
}
