/**
 * What the end-to-end tests on the lab's sshd hosts share: Debian's Chromium with one watched
 * page (light, English, 1440 × 900), the check after each test that no request left 127.0.0.1
 * other than to the lab's 198.18.0.0/15 and that the console logged no error, and calls to the
 * console's API that throw when Ferry refuses them. It never starts the lab or the console.
 */
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { expect } from 'vitest';
import { launchBrowser, watchPage, type PageWatch } from './browser.ts';
import type { ConsoleFixture } from './console-fixture.ts';

/** The lab's addresses (198.18.0.0/15): the hosts' own pages are the only requests allowed off 127.0.0.1. */
export const LAB_NET = /^https?:\/\/198\.1[89]\./;

export interface WatchedPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  watch: PageWatch;
}

/** Launches Chromium and opens one page, its requests and errors watched; waits 30 s at most per step. */
export async function openWatchedPage(options: BrowserContextOptions = {}): Promise<WatchedPage> {
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light', locale: 'en-US', ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const watch = await watchPage(page);
  return { browser, context, page, watch };
}

/** For afterEach: nothing left 127.0.0.1 but for the lab, and the console logged no error. */
export function expectLocalAndQuiet(watch: PageWatch): void {
  expect(watch.offsite.filter((u) => !LAB_NET.test(u)), 'requests that left 127.0.0.1').toEqual([]);
  expect(watch.unexpectedErrors(), 'console errors').toEqual([]);
}

/** Calls the console's API as the page would; a refusal throws with Ferry's code and message. */
export function consoleApiOf(fixture: () => ConsoleFixture): (name: string, req?: unknown) => Promise<unknown> {
  return async (name, req = {}) => {
    const { body } = await fixture().call(name, req);
    if (!body.ok) throw new Error(`${name}: ${body.error?.code}: ${body.error?.message}`);
    return body.result;
  };
}
