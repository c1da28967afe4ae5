// ESLint on the TypeScript sources of the packages and services (not the generated
// packages/proto/src): typescript-eslint's recommended type-checked rules, each file checked
// against its workspace's tsconfig.json, found by the project service.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'packages/proto/src/**'] },
  {
    files: ['packages/*/src/**/*.ts', 'services/*/src/**/*.ts'],
    extends: [eslint.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Handlers, kafkajs callbacks and gRPC methods are async to fit a Promise-returning contract and to turn a throw into a rejection, awaiting or not.
      '@typescript-eslint/require-await': 'off',
      // kafkajs's batch payload (resolveOffset, heartbeat, ...) and the clients and options passed around here are closures declared with method syntax; none uses `this`.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['packages/testkit/src/**/*.ts'],
    rules: {
      // The test kit hands rows and message JSON to JavaScript tests, which read their fields: its defaults are `any` on purpose.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
