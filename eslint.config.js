// ESLint: TypeScript + Vue rules, and the layer map of ARCHITECTURE.md as import rules, so a
// wrong-way import fails `npm test` instead of waiting for a review.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';

const ELECTRON_ONLY_IN_SHELL = { name: 'electron', message: 'Only electron/main.ts and electron/preload.ts may import electron.' };
const NODE_BUILTINS = { regex: '^node:', message: 'This layer does no IO: no Node built-ins here.' };

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'test-output/**', 'node_modules/**', 'docs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
  },
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/multi-word-component-names': 'off',
    },
  },
  {
    files: ['renderer/**/*.{ts,vue}'],
    ignores: ['renderer/vite.config.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON_ONLY_IN_SHELL],
          patterns: [
            NODE_BUILTINS,
            {
              regex: '(^|/)electron/(?!contract/console(\\.ts)?$)',
              message: 'The renderer talks to Ferry only through electron/contract/console.ts.',
            },
            { regex: '(^|/)agent/', message: 'The renderer sees agent types only through the console contract.' },
          ],
        },
      ],
    },
  },
  {
    files: ['agent/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON_ONLY_IN_SHELL],
          patterns: [
            { regex: '(^|/)(electron|renderer)/', message: 'agent/ runs on hosts without the app: it imports nothing from electron/ or renderer/.' },
          ],
        },
      ],
    },
  },
  {
    files: ['agent/protocol/**/*.ts', 'electron/contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON_ONLY_IN_SHELL],
          patterns: [NODE_BUILTINS, { regex: '(^|/)(renderer)/', message: 'Contracts import only other contracts.' }],
        },
      ],
    },
  },
  {
    files: ['electron/**/*.ts'],
    ignores: ['electron/main.ts', 'electron/preload.ts', 'electron/contract/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [ELECTRON_ONLY_IN_SHELL], patterns: [{ regex: '(^|/)renderer/', message: 'electron/ never imports the renderer.' }] },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'build/**/*.mjs'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
