// Lint rules for the whole monorepo: typescript-eslint's type-checked recommended set, with the project service
// finding each file's tsconfig. Formatting is prettier's job (.prettierrc), not eslint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.nx/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Matching control characters is the point where it happens: escaping them before they reach a terminal.
      'no-control-regex': 'off',
    },
  },
  // Tests read JSON that the CLI printed (JSON.parse is `any`) and assert on it: the assertion is the check.
  { files: ['**/*.test.ts', 'test/**/*.ts'], rules: { '@typescript-eslint/no-unsafe-assignment': 'off' } },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  // Plain node scripts: the benchmarks' baselines (bench/support/*.mjs, run without a TypeScript loader) and the build's.
  {
    files: ['bench/**/*.mjs', 'packages/cli/scripts/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
