// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries, and only
// type imports of activities (they run in the worker, reached through proxyActivities).
const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);
const ioLibraries = [
  'ssh2',
  'dockerode',
  'nodemailer',
  'imapflow',
  'pino',
  'yaml',
  'commander',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@temporalio/testing',
];

// The folders whose code does I/O: pure code may import at most their types.
const ioLayers = [
  '**/activities/**',
  '**/transports/**',
  '**/lab/**',
  '**/alerts/**',
  '**/mail/**',
  '**/cli/**',
  '**/temporal/**',
  '**/notify/**',
  '**/config/**',
  '**/approval/**',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.tools/**',
      '.data/**',
      '.lab/**',
      'dist/**',
      'coverage/**',
      'test-results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Activities and message handlers are async by contract even when they do not await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, ...ioLibraries].map((name) => ({
            name,
            message:
              'Workflow code must be deterministic: no Node built-ins or I/O libraries in src/workflows/.',
          })),
          patterns: [
            {
              group: ['**/activities', ...ioLayers],
              allowTypeImports: true,
              message:
                'Workflows may import only types from the I/O layers (activities run through proxyActivities).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process access in workflows.' },
        { name: 'setInterval', message: 'Use workflow sleep/condition.' },
      ],
    },
  },
  {
    // The workflow layer is a leaf: everything else shares the contract through src/shared/, never by
    // reaching into workflow code (which would drag the deterministic sandbox's rules everywhere).
    files: ['src/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['src/workflows/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/workflows', '**/workflows/**'],
              message:
                'Only src/workflows/ imports workflow code; shared types and messages live in src/shared/.',
            },
          ],
        },
      ],
    },
  },
  {
    // Parsers and the command catalogue are pure: text in, data out; data in, argument vectors out.
    files: ['src/parsers/**/*.ts', 'src/commands/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, ...ioLibraries].map((name) => ({
            name,
            message: 'src/parsers/ and src/commands/ are pure: no Node built-ins or I/O libraries.',
          })),
          patterns: [
            {
              group: [...ioLayers, '**/workflows/**'],
              allowTypeImports: true,
              message: 'src/parsers/ and src/commands/ are pure: they may import only types from I/O layers.',
            },
          ],
        },
      ],
    },
  },
  {
    // The shared contract is imported by workflow code, so it is deterministic too, and it depends on no
    // layer: not on workflow code (see above), nor on the folders that do I/O.
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, ...ioLibraries].map((name) => ({
            name,
            message: 'src/shared/ is imported by workflow code: no Node built-ins or I/O libraries.',
          })),
          patterns: [
            {
              group: ['**/workflows', '**/workflows/**'],
              message:
                'src/shared/ is the contract workflow code depends on: it must not import workflow code.',
            },
            {
              group: ioLayers,
              allowTypeImports: true,
              message: 'src/shared/ is pure: it may import only types from I/O layers.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
