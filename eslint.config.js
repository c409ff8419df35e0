// Lint: the layering rule first (data flows cli → commands → env → daemon client ↔
// server → store / vaults; nothing below imports from above), then a few rules
// that catch real mistakes. Kept small on purpose: tsc --strict does the rest.
import tseslint from 'typescript-eslint';

/** `no-restricted-imports` patterns for a folder that must not reach these others. */
const forbid = (...groups) => ({
  'no-restricted-imports': ['error', {
    patterns: groups.map(([glob, why]) => ({ group: [glob], message: why })),
  }],
});

const COMMANDS = ['**/commands/*', 'the commands sit above this layer: move what both need below'];
const CLI = ['**/cli.js', 'only the entry points import the CLI'];
const DAEMON = ['**/daemon/*', 'the engine takes its held values from its caller, not the daemon'];
const ENV = ['**/env/*', 'the vaults sit below the engine'];

export default tseslint.config(
  { ignores: ['dist/**', 'native/build/**', 'node_modules/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: 'module' } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-debugger': 'error',
      'no-dupe-keys': 'error',
      'no-unreachable': 'error',
    },
  },
  { files: ['src/env/**/*.ts'], rules: forbid(COMMANDS, CLI, DAEMON) },
  // The daemon may run the engine (its fast export/exec ops); the engine never calls up into it.
  { files: ['src/daemon/**/*.ts'], rules: forbid(COMMANDS, CLI) },
  { files: ['src/vaults/**/*.ts'], rules: forbid(COMMANDS, CLI, ENV, ['**/daemon/*', 'vaults fetch; the daemon holds: share types through src/secret.ts']) },
  { files: ['src/shells/**/*.ts'], rules: forbid(COMMANDS, CLI, DAEMON) },
);
