// Lint as temporalio/samples-typescript does: no floating promises anywhere,
// and no Node built-ins or I/O libraries in workflow code (it must replay
// deterministically in the workflow sandbox).
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

export default tseslint.config(
  { ignores: ['node_modules/**', 'generated/**', '.data/**', '.tools/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts', 'bench/*-workflow.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'got', 'pino', 'archiver', '@prisma/client', 'zod', '@temporalio/client', '@temporalio/worker', '@temporalio/activity']
          .map((name) => ({ name, message: 'Workflow code must be deterministic: do I/O in an activity.' })),
        patterns: [{ group: ['../activities/*', '../workers/*', '../client/*', '../simulator/*'], message: 'Workflows import only types from activities.', allowTypeImports: true }],
      }],
    },
  },
);
