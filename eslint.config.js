// ESLint (flat config): @eslint/js and typescript-eslint's recommended rules, syntax only.
// `npm run lint` (CI: .ci/run). Formatting is prettier's job (`npm run format:check`), not ESLint's.
//
// Why not typescript-eslint's type-checked rules: on this tree they take ~90 s and 2.2 GB on two
// cores (a TypeScript 6 program per tsconfig; TS 7's faster checker has no JS API for them yet),
// and most of their ~490 extra findings are no-unsafe-* on parsed JSON. `tsc` (npm run typecheck)
// covers the types. See docs/contributing.md.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/',
      '**/dist/',
      'models/',
      'bench/results/',
      'chaos/results/',
      'test-output/',
      'coverage/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks a parameter or binding kept on purpose (a callback's position, a tuple slot,
      // a property left out of a rest spread).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // A `let` read by a closure made before its one assignment (a readiness probe built before the
      // thing it probes) cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['dashboard/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
