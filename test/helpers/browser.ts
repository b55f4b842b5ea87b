/**
 * Launches Debian's Chromium through playwright-core (Playwright's own browser download is not
 * available here). Headless, with everything that would phone home switched off.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.FERRY_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}. Install it with "apt-get install -y chromium" (or set FERRY_CHROMIUM).`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

export interface PageWatch {
  /** Requests (and WebSocket connections) to anything but 127.0.0.1; they are aborted. */
  offsite: string[];
  /** console.error messages and uncaught page errors. */
  errors: string[];
  /** Errors other than those matching one of `allowed`. */
  unexpectedErrors(allowed?: RegExp[]): string[];
}

/**
 * Aborts and records every request that would leave 127.0.0.1, and records console errors and
 * uncaught exceptions, so a test can assert the console stays local and quiet.
 */
export async function watchPage(page: Page): Promise<PageWatch> {
  const watch: PageWatch = {
    offsite: [],
    errors: [],
    unexpectedErrors: (allowed = []) => watch.errors.filter((e) => !allowed.some((re) => re.test(e))),
  };
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    watch.offsite.push(url);
    return route.abort('blockedbyclient');
  });
  page.on('websocket', (ws) => {
    if (!isLocal(ws.url())) watch.offsite.push(ws.url());
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') watch.errors.push(`console.error: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => watch.errors.push(`uncaught: ${err.message}`));
  return watch;
}

function isLocal(url: string): boolean {
  const u = new URL(url);
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
  return u.hostname === '127.0.0.1';
}
