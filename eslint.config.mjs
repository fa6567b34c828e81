import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Layering (DESIGN.md): the engine and data layers never touch the editor.
      'no-restricted-imports': 'off',
    },
  },
  // Layering (DESIGN.md): arrows point down — vscode/ → jobs/ → eval/ → engine/, data/ (data uses
  // engine's tokenizer; engine uses nothing above it). Nothing below vscode/ touches the editor.
  {
    files: ['src/engine/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['vscode'],
          patterns: [
            {
              group: ['**/data/*', '**/eval/*', '**/jobs/*', '**/vscode/*'],
              message: 'engine/ imports nothing above it',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/data/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['vscode'],
          patterns: [
            { group: ['**/eval/*', '**/jobs/*', '**/vscode/*'], message: 'data/ imports only engine/' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/eval/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['vscode'],
          patterns: [{ group: ['**/jobs/*', '**/vscode/*'], message: 'eval/ sits below jobs/ and vscode/' }],
        },
      ],
    },
  },
  {
    files: ['src/jobs/**', 'src/cli*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['vscode'],
          patterns: [{ group: ['**/vscode/*'], message: 'only vscode/ talks to the editor' }],
        },
      ],
    },
  },
);
