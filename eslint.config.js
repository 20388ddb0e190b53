// Lint as temporalio/samples-typescript does: no floating promises anywhere,
// and no Node built-ins or I/O libraries in workflow code (it must replay
// deterministically in the workflow sandbox). Boundary rules keep every
// import pointing down: contract <- workflows <- activities <- workers <-
// client; the simulator stands apart; rig, bench and test may use anything.
// Import cycles are refused by `madge` in `npm run lint`; formatting is
// prettier's (eslint-config-prettier turns off the rules it owns).
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import { builtinModules } from 'node:module';

/** A no-restricted-imports rule: these relative paths (at any depth) are not for this folder. */
const boundary = (folders, message, extra = {}) => ({
  'no-restricted-imports': [
    'error',
    {
      ...extra,
      patterns: [
        ...(extra.patterns ?? []),
        { group: folders.flatMap((f) => [`../${f}`, `../${f}/*`, `../../${f}`, `../../${f}/*`]), message },
      ],
    },
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'generated/**', 'dist/**', '.data/**', '.tools/**'] },
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['contract/**/*.ts'],
    rules: boundary(
      ['activities', 'workflows', 'workers', 'client', 'simulator', 'rig', 'bench', 'test', 'prisma'],
      'The contract imports nothing from the project: every layer imports it.',
    ),
  },
  {
    files: ['workflows/**/*.ts', 'bench/*-workflow.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...builtinModules,
            ...builtinModules.map((m) => `node:${m}`),
            'got',
            'pino',
            'archiver',
            '@prisma/client',
            'zod',
            '@temporalio/client',
            '@temporalio/worker',
            '@temporalio/activity',
          ].map((name) => ({ name, message: 'Workflow code must be deterministic: do I/O in an activity.' })),
          patterns: [
            {
              group: ['../activities', '../activities/*'],
              message: 'Workflows import only types from activities.',
              allowTypeImports: true,
            },
            {
              group: ['../workers', '../workers/*', '../client', '../client/*', '../simulator', '../simulator/*', '../rig', '../rig/*'],
              message: 'Workflows import only the contract and their own folder.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: boundary(
      ['workers', 'client', 'simulator', 'rig', 'bench', 'test'],
      'Activities import down only: the contract, workflow types, their own folder.',
    ),
  },
  {
    files: ['workers/**/*.ts'],
    rules: boundary(
      ['client', 'simulator', 'rig', 'bench', 'test'],
      'Workers wire activities and workflows; they do not import the CLI or the simulator.',
    ),
  },
  {
    files: ['client/**/*.ts'],
    rules: boundary(['simulator', 'rig', 'bench', 'test'], 'The operator client never imports the simulator, the rig or the bench.'),
  },
  {
    files: ['simulator/**/*.ts'],
    rules: boundary(
      ['workflows', 'workers', 'client', 'rig', 'bench', 'test'],
      "The simulator stands apart: it speaks Moodle's protocol, it does not import the product.",
      {
        patterns: [
          {
            regex: '^(\\.\\./)+activities(?!/transport/throttle$)',
            message: 'The simulator uses only the stream throttle of activities/.',
          },
        ],
      },
    ),
  },
);
