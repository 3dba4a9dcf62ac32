// The linter CI runs (`npm run lint`): a small rule set that catches real mistakes; formatting is not its business.
// Only the product code gets the one rule that needs type information (a promise nobody awaits loses its error and
// its ordering, which matters in activities and workflows); tests and benchmarks skip it to keep the run short.
'use strict';
const tseslint = require('typescript-eslint');

const PRODUCT = ['activities/**/*.ts', 'client/**/*.ts', 'config/**/*.ts', 'worker/**/*.ts', 'workflows/**/*.ts'];

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': ['error', { destructuring: 'all' }],
      'no-debugger': 'error',
      'no-dupe-keys': 'error',
      'no-duplicate-case': 'error',
      'no-unreachable': 'error',
      'no-template-curly-in-string': 'error',
    },
  },
  {
    files: PRODUCT,
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
);
