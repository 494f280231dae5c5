// ESLint 9 flat config (`npm run lint`): typescript-eslint's recommended correctness rules over every TypeScript
// and JavaScript source. Formatting is Prettier's job (.prettierrc), imports between folders dependency-cruiser's
// (.dependency-cruiser.cjs). Rules changed from the recommended sets, and why:
// - no-undef is off for TypeScript: the compiler already reports undefined names, knowing the declared globals.
// - no-unused-vars ignores the siblings of a rest element (`const { a, ...rest } = o` to drop `a`).
// - no-unused-expressions allows `c ? a++ : b++` and `x && f()`, idioms the counting loops of the tests use.
// A lazy `require` (loading heavy modules only when used) and a regular expression over control characters
// (escaping them) are deliberate where they occur, each marked with an eslint-disable comment that says why.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.e2e/**', 'test-output/**', 'bench-output/**', 'demo-output/**', 'runs/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true, allowShortCircuit: true }],
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  { files: ['**/*.ts'], rules: { 'no-undef': 'off' } },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['webview/**', 'test/browser/**/*.mjs'], languageOptions: { globals: { ...globals.browser } } },
);
