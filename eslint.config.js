// ESLint flat config. Besides typescript-eslint's checks it enforces the rooms of docs/architecture.md:
// shared/ imports nothing of Node, DOM or Electron; renderer/ never reaches Node or the main process;
// electron/ never imports the renderer; only the two Electron entry files load the real 'electron'.
//
// renderer/, shared/ and the preload name the packages they MAY import (an allowlist), not the ones they may not:
// a denylist passes the next Node-only dependency someone adds to package.json, an allowlist fails it.
// test/tooling/rooms-lint.test.ts proves every rule here fires.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * The packages the renderer may import. Each one runs in a browser as it is; anything else (a `node:` builtin,
 * 'electron', pg, better-sqlite3, pino, sharp, a new dependency) fails lint until someone adds it here, with a reason.
 */
const RENDERER_PACKAGES = [
  // the bridge contract's schemas (shared/kiosk/contract.ts), which the renderer's bridge client imports; plain JS
  'zod',
  // the browser FaceEngine (renderer/face/browser-face-engine.ts); esbuild (platform 'browser') resolves its ESM build
  '@vladmandic/face-api',
  // face-api's runtime and its WASM backend, pinned to the 4.22.0 the fork bundles. Exact names, so the Node-only
  // '@tensorflow/tfjs-node' (native bindings) is refused.
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
];

/**
 * The packages shared/ may import. shared/ runs everywhere (Node, the browser and, bundled, the sandboxed preload).
 * Not face-api: its bare entry resolves in Node to the build that needs @tensorflow/tfjs-node, which is why
 * shared/face/engine.ts takes face-api from its caller (FaceApiLike) instead of importing it.
 */
const SHARED_PACKAGES = [
  // the bridge contract's request schemas (shared/kiosk/contract.ts); plain JS, runs in every room
  'zod',
];

/** What the preload may import: 'electron' (the one module a sandboxed preload can require) and what shared/ may. */
const PRELOAD_PACKAGES = ['electron', ...SHARED_PACKAGES];

/** Unit tests beside their code (`*.test.ts`) run in vitest under Node, and may use the test tools too. */
const TEST_PACKAGES = ['vitest', 'fast-check'];

const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A no-restricted-imports pattern group refusing every bare specifier (package, `node:` builtin, 'electron') except
 * the listed packages and their subpaths ('zod/v4'). Relative paths are left to the room patterns beside it.
 *
 * A regex, not a gitignore-style group like ['*', '!zod']: in those `*` also matches './x.js' and '../x.js', and a
 * scoped name cannot be re-included ('!@vladmandic/face-api' stays refused, its '@vladmandic' "folder" being excluded).
 *
 * Type-only imports are refused too (core no-restricted-imports has no allowTypeImports, and we want none): the
 * renderer compiles with `types: []` and the DOM lib, and a Node package's types pull Node's in (Buffer, streams,
 * EventEmitter); a shape the renderer or shared/ needs from the other side belongs in shared/ (the KioskApi contract,
 * ElectronLike-style interfaces), not borrowed from a package that cannot run there.
 */
const onlyPackages = (allowed, message) => ({
  regex: `^(?![./])(?!(?:${allowed.map(escapeRegex).join('|')})(?:/|$))`,
  caseSensitive: true,
  message: `${message}. Allowed packages: ${allowed.join(', ')} (eslint.config.js says why each is there)`,
});

/**
 * no-restricted-imports does not see dynamic `import()`, so a bare one would slip past the allowlist: in the rooms
 * with an allowlist, `import()` may load only relative paths (lazy-loading the room's own modules).
 * (`require` is already refused everywhere by typescript-eslint's no-require-imports.)
 */
const noBareDynamicImport = (room) => {
  const message = `${room}; import() only relative string literals, so the allowlist sees every package`;
  return {
    'no-restricted-syntax': [
      'error',
      { selector: "ImportExpression[source.type!='Literal']", message },
      { selector: 'ImportExpression[source.value=/^[^.]/]', message },
    ],
  };
};

const SHARED_ROOM = 'shared/ runs everywhere: no Node, DOM or Electron imports';
const sharedRooms = {
  group: ['../electron/**', '../renderer/**', '**/electron/**', '**/renderer/**'],
  message: 'shared/ runs everywhere: it may import only shared/',
};

const RENDERER_ROOM = 'renderer/ is browser code: reach the main process only through the KioskApi bridge';
const rendererRooms = { group: ['**/electron/**', '../electron', '../../electron'], message: RENDERER_ROOM };

const PRELOAD_ROOM = 'the sandboxed preload has no Node modules';
const preloadRooms = {
  group: ['**/renderer/**', '../main/**', '../kiosk/**', '../central/**', '../cli/**', '../config/**'],
  message: 'the preload may import only electron, shared/ and its own folder',
};

/** Only these load the real 'electron' at run time; the rest of electron/ is written against ElectronLike. */
const ELECTRON_ENTRIES = ['electron/main/index.ts', 'electron/preload/index.ts'];

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
    // Everything but the two entry files is written against ElectronLike (electron/main/electron-like.ts) or the
    // bridge, so it runs and is tested without the Electron binary (which cannot run on these machines) and the
    // privileged module stays in two small, reviewed files. `import type` is erased, so types stay welcome.
    // typescript-eslint's variant of no-restricted-imports, for allowTypeImports; being a different rule, it does
    // not replace the rooms' no-restricted-imports options below (flat config replaces a rule's options per rule).
    // renderer/ and shared/ are left out: their allowlists refuse 'electron' outright, types included.
    ignores: [...ELECTRON_ENTRIES, 'renderer/**', 'shared/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^electron(?:/|$)',
              caseSensitive: true,
              allowTypeImports: true,
              message:
                `only ${ELECTRON_ENTRIES.join(' and ')} may import 'electron' at run time (import type is fine): ` +
                'write against ElectronLike or the bridge',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression[source.value=/^electron(?:$|\\u002F)/]',
          message: `only ${ELECTRON_ENTRIES.join(' and ')} may import 'electron' at run time`,
        },
      ],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [sharedRooms, onlyPackages(SHARED_PACKAGES, SHARED_ROOM)] }],
      ...noBareDynamicImport(SHARED_ROOM),
    },
    languageOptions: { globals: {} },
  },
  {
    files: ['renderer/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [rendererRooms, onlyPackages(RENDERER_PACKAGES, RENDERER_ROOM)] }],
      ...noBareDynamicImport(RENDERER_ROOM),
    },
  },
  {
    // The room rules again, with the test tools added: flat config replaces a rule's options, it does not merge them.
    files: ['shared/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [sharedRooms, onlyPackages([...SHARED_PACKAGES, ...TEST_PACKAGES], SHARED_ROOM)] },
      ],
    },
  },
  {
    files: ['renderer/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [rendererRooms, onlyPackages([...RENDERER_PACKAGES, ...TEST_PACKAGES], RENDERER_ROOM)] },
      ],
    },
  },
  {
    files: ['electron/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/renderer/**', '../renderer', '../../renderer'], message: 'electron/ must not import renderer code' }] },
      ],
    },
  },
  {
    // The kiosk's gateway (electron/kiosk/central/) is the only kiosk code that speaks to central: every statement a
    // kiosk runs there is in one folder, with one error-code map. Elsewhere in electron/kiosk, `pg` and the central
    // modules that open sessions or run SQL are refused (electron/central/sql-errors.js, which only classifies
    // errors, stays open).
    files: ['electron/kiosk/**/*.ts'],
    ignores: ['electron/kiosk/central/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/renderer/**', '../renderer', '../../renderer'], message: 'electron/ must not import renderer code' },
            {
              group: ['pg', 'pg/*', '**/central/connect.js', '**/central/face-search.js', '**/central/roster-feed.js', '**/central/kiosk-registry.js'],
              message: 'only the kiosk gateway (electron/kiosk/central/) talks to central: add the statement there',
            },
          ],
        },
      ],
    },
  },
  {
    // The preload runs sandboxed: only 'electron' (contextBridge, ipcRenderer) exists at run time, and whatever
    // electron/main/build.ts bundles in (its own folder and shared/, so shared/'s packages).
    files: ['electron/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [preloadRooms, onlyPackages(PRELOAD_PACKAGES, PRELOAD_ROOM)] }],
      ...noBareDynamicImport(PRELOAD_ROOM),
    },
  },
  {
    files: ['test/**/*.ts', '**/*.test.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
