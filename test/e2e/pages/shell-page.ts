/**
 * Page object for the console's chrome: header (version, connection, language, theme), the
 * guided-flow navigation.
 */
import type { Locator, Page } from 'playwright-core';

export type Theme = 'system' | 'light' | 'dark';
export type Locale = 'en' | 'zh-CN';

export class ShellPage {
  readonly shell: Locator;
  readonly connection: Locator;
  readonly version: Locator;
  readonly localeSelect: Locator;
  readonly reconnectingBanner: Locator;
  readonly fatal: Locator;

  constructor(readonly page: Page) {
    this.shell = page.locator('[data-test=shell]');
    this.connection = page.locator('[data-test=connection]');
    this.version = page.locator('[data-test=app-version]');
    this.localeSelect = page.locator('[data-test=locale-select]');
    this.reconnectingBanner = page.locator('[data-test=reconnecting-banner]');
    this.fatal = page.locator('[data-test=fatal]');
  }

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await this.shell.waitFor();
  }

  navLink(step: string): Locator {
    return this.page.locator(`[data-test=nav-${step}]`);
  }

  async goTo(step: string): Promise<void> {
    await this.navLink(step).click();
  }

  async setLocale(locale: Locale): Promise<void> {
    await this.localeSelect.selectOption(locale);
    await this.page.waitForFunction(`document.documentElement.lang === ${JSON.stringify(locale)}`);
  }

  /** The theme switch is a radio group; the label is what a user clicks. */
  async setTheme(theme: Theme): Promise<void> {
    await this.page.locator('label', { has: this.page.locator(`[data-test=theme-${theme}]`) }).click();
    await this.page.waitForFunction(`(document.documentElement.dataset.theme ?? 'system') === ${JSON.stringify(theme)}`);
  }

  async connectionState(): Promise<string | null> {
    return this.connection.getAttribute('data-state');
  }

  async htmlLang(): Promise<string | null> {
    return this.page.locator('html').getAttribute('lang');
  }

  async htmlTheme(): Promise<string | null> {
    return this.page.locator('html').getAttribute('data-theme');
  }

  /** The page background as computed by the browser, e.g. "rgb(13, 18, 24)". */
  async bodyBackground(): Promise<string> {
    return this.page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
  }
}
