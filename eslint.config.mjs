// Lint: typescript-eslint with type information, plus the house layering rules.
import tseslint from 'typescript-eslint';

const layer = (patterns, message) => ['error', { patterns: patterns.map((group) => ({ group, message })) }];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/generated/**', 'test/generated/**', 'coverage/**', '.data/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/only-throw-error': 'error',
      // process.env is read in src/config only (and by the test harness).
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through src/config/config.ts.' }],
    },
  },
  {
    files: ['src/config/**', 'test/**', 'bench/**', 'scripts/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['src/grpc/**'],
    rules: { 'no-restricted-imports': layer([['slonik', '@slonik/*', 'pg', '**/repositories/**']], 'gRPC handlers talk to services, never to the database.') },
  },
  {
    files: ['src/repositories/**', 'src/services/**', 'src/db/**'],
    rules: { 'no-restricted-imports': layer([['@grpc/*', '**/generated/**', '**/grpc/**']], 'Data access knows nothing of gRPC or generated proto code.') },
  },
  {
    files: ['src/client/**'],
    rules: {
      'no-restricted-imports': layer(
        [['../app', '../main', '../processSetup', '../paths', '../*/**', '!../generated/**', 'slonik', '@slonik/*', 'pg']],
        'The client is shipped to other services: it knows the contract (generated code) and grpc-js, nothing of the server.',
      ),
    },
  },
  {
    files: ['src/domain/**', 'src/config/**'],
    rules: { 'no-restricted-imports': layer([['../*', '!../domain/*', '!../config/*', '@grpc/*', 'slonik', 'pg']], 'Domain and config import nothing internal.') },
  },
);
