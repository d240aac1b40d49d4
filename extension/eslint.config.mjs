// ESLint (flat config): typescript-eslint's recommended rules for the extension's TypeScript, and
// ESLint's for its plain scripts (the build scripts run in Node, media/answer.js in the webview).
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
    { ignores: ['dist/', 'out/', 'python/'] },
    eslint.configs.recommended,
    {
        files: ['**/*.ts'],
        extends: [tseslint.configs.recommended],
    },
    {
        files: ['*.mjs', 'scripts/**/*.mjs'],
        languageOptions: { globals: globals.node },
    },
    {
        files: ['media/**/*.js'],
        languageOptions: {
            sourceType: 'script',
            globals: { ...globals.browser, acquireVsCodeApi: 'readonly' },
        },
    },
);
