/**
 * Ferry's version, stamped into every bundle at build time from package.json (esbuild/vite
 * `define`). Unbundled code (tests run through Vitest) sees the fallback, which Vitest's config
 * also defines, so handshakes compare like with like.
 */
declare const __FERRY_VERSION__: string | undefined;

export const FERRY_VERSION: string = typeof __FERRY_VERSION__ === 'string' ? __FERRY_VERSION__ : '0.0.0-dev';
