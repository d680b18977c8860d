// ESLint flat config. Besides typescript-eslint's checks it enforces the rooms of ../shared/ARCHITECTURE.md:
// shared/ imports nothing of Node, DOM or Electron; renderer/ never reaches Node or the main process;
// electron/ never imports the renderer.
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

const restrict = (patterns, message) => ({
  'no-restricted-imports': ['error', { paths: [], patterns: patterns.map((group) => ({ group: [group], message })) }],
});

const nodeModuleRules = (message) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: [...nodeBuiltins, 'electron'].map((name) => ({ name, message })),
      patterns: [
        { group: ['**/electron/**', '../electron', '../../electron'], message },
        { group: ['pg', 'better-sqlite3', 'sharp', '@electric-sql/*', 'pino'], message },
      ],
    },
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'bench/results.json'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-ignore': true, 'ts-nocheck': true, 'ts-expect-error': 'allow-with-description' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'electron'].map((name) => ({
            name,
            message: 'shared/ runs everywhere: no Node, DOM or Electron imports',
          })),
          patterns: [
            {
              group: ['../electron/**', '../renderer/**', '**/electron/**', '**/renderer/**', 'pg', 'better-sqlite3', 'pino'],
              message: 'shared/ runs everywhere: it may import only shared/',
            },
          ],
        },
      ],
    },
    languageOptions: { globals: {} },
  },
  {
    files: ['renderer/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: nodeModuleRules('renderer/ is browser code: reach the main process only through the KioskApi bridge'),
  },
  {
    files: ['electron/**/*.ts'],
    rules: restrict(['**/renderer/**', '../renderer', '../../renderer'], 'electron/ must not import renderer code'),
  },
  {
    // The preload runs sandboxed: only 'electron' (contextBridge, ipcRenderer) and shared/ are there at run time.
    files: ['electron/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'the sandboxed preload has no Node modules' })),
          patterns: [
            {
              group: ['**/renderer/**', '../main/**', '../kiosk/**', '../central/**', '../cli/**', '../config/**', 'pg', 'better-sqlite3', 'sharp', 'pino', '@electric-sql/*'],
              message: 'the preload may import only electron, shared/ and its own folder',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', '**/*.test.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
