import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

// The layer map (docs/ARCHITECTURE.md), stated once here and enforced below. Paths are relative to
// the repository root. Arrows point down: a folder may import only the folders it lists.

/** Inside src/engine/: each group may import only the groups before it (members of one group are independent). */
const engineOrder = [
  ['errors.ts', 'rng.ts'],
  ['onnx'],
  ['autodiff'],
  ['formats', 'tokenizer', 'hub'],
  ['models'],
  ['train'],
  ['generate'],
  ['complete'],
];

/** Above the engine: each layer and the src/ layers it may import. */
const layers = {
  'src/engine': [],
  'src/data': ['src/engine'],
  'src/eval': ['src/engine', 'src/data'],
  'src/jobs': ['src/engine', 'src/data', 'src/eval'],
  'src/cli': ['src/engine', 'src/data', 'src/eval', 'src/jobs'],
  'src/vscode': ['src/engine', 'src/data', 'src/eval', 'src/jobs'],
  // The dashboard's page (its own browser bundle): pure view code over engine/eval types and values.
  webview: ['src/engine', 'src/eval'],
};

const engineZones = engineOrder
  .flatMap((group, level) =>
    group.map((name) => ({
      target: `src/engine/${name}`,
      from: [...group.filter((other) => other !== name), ...engineOrder.slice(level + 1).flat()].map(
        (other) => `src/engine/${other}`,
      ),
      message: `engine/ imports in one order: ${engineOrder.map((g) => g.join(', ')).join(' → ')}; ${name} may import only what comes before it.`,
    })),
  )
  .filter((zone) => zone.from.length > 0);

const layerZones = Object.entries(layers).map(([layer, allowed]) => ({
  target: layer,
  from: Object.keys(layers).filter(
    (other) => other !== layer && other !== 'webview' && !allowed.includes(other),
  ),
  message: `${layer}/ may import only ${allowed.join(', ') || 'itself'} (docs/ARCHITECTURE.md).`,
}));

const zones = [
  ...engineZones,
  ...layerZones,
  // Nothing under src/ imports the page, except that the editor layer shares its message types.
  {
    target: 'src',
    from: ['webview'],
    except: ['./protocol.ts'],
    message: 'src/ imports from webview/ only webview/protocol.ts (docs/ARCHITECTURE.md).',
  },
  {
    target: ['src/engine', 'src/data', 'src/eval', 'src/jobs', 'src/cli'],
    from: ['webview/protocol.ts'],
    message: 'only src/vscode/ hosts the dashboard page (docs/ARCHITECTURE.md).',
  },
  // Host and page share one message module, and it imports neither side.
  {
    target: 'webview/protocol.ts',
    from: ['src'],
    except: ['./engine', './eval'],
    message: 'webview/protocol.ts imports only types from src/engine/ and src/eval/.',
  },
  {
    target: 'webview/protocol.ts',
    from: ['webview'],
    message: 'webview/protocol.ts imports neither side: no other webview module.',
  },
  // Test doubles and tiny-model writers are not product code.
  {
    target: ['src', 'webview'],
    from: ['fixtures', 'test', 'bench', 'scripts'],
    message: 'production code never imports fixtures/, test/, bench/ or scripts/ (docs/ARCHITECTURE.md).',
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      'dist/**',
      'test-artifacts/**',
      '.localtune/**',
      '.cache/**',
      'bench/results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      // import-x reads the files it follows (for no-cycle) only with these extensions and parser.
      'import-x/extensions': ['.ts', '.tsx', '.mjs', '.js', '.cjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      // Extensionless relative imports resolve to .ts files, as with tsconfig's "Bundler" resolution.
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.tsx', '.mjs', '.js', '.json', '.node'] }),
      ],
    },
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Layers (docs/ARCHITECTURE.md): every import of a product folder goes down the map.
  {
    files: ['src/**', 'webview/**', 'fixtures/**'],
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones }],
      // No runtime import circle (type-only imports are erased and do not count).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  // Only the editor layer talks to the editor.
  {
    files: ['src/**', 'webview/**', 'fixtures/**'],
    ignores: ['src/vscode/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'only src/vscode/ talks to the editor (docs/ARCHITECTURE.md)' }],
        },
      ],
    },
  },
  // The message module is erased from both bundles: type imports only.
  {
    files: ['webview/protocol.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[importKind='value']",
          message: 'webview/protocol.ts imports types only (`import type`): both bundles include it.',
        },
      ],
    },
  },
);
