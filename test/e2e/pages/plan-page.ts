/** Page object for the Plan step: capacity-planning inputs and what they give. */
import type { Locator, Page } from 'playwright-core';

export class PlanPage {
  readonly view: Locator;
  readonly dataSize: Locator;
  readonly unit: Locator;
  readonly scanLater: Locator;
  readonly expected: Locator;
  readonly instance: Locator;
  readonly incomplete: Locator;
  readonly instances: Locator;
  readonly explanation: Locator;
  readonly eta: Locator;
  readonly etaParts: Locator;
  readonly etaExplanation: Locator;

  constructor(readonly page: Page) {
    this.view = page.locator('[data-test=plan-view]');
    this.dataSize = page.locator('[data-test=plan-data-size]');
    this.unit = page.locator('[data-test=plan-data-unit]');
    this.scanLater = page.locator('[data-test=plan-scan-later]');
    this.expected = page.locator('[data-test=plan-expected]');
    this.instance = page.locator('[data-test=plan-instance]');
    this.incomplete = page.locator('[data-test=plan-incomplete]');
    this.instances = page.locator('[data-test=plan-instances]');
    this.explanation = page.locator('[data-test=plan-explanation]');
    this.eta = page.locator('[data-test=plan-eta]');
    this.etaParts = page.locator('[data-test=plan-eta-parts]');
    this.etaExplanation = page.locator('[data-test=plan-eta-explanation]');
  }

  async fill(input: { size?: number; unit?: string; expected?: number; instance?: number }): Promise<void> {
    if (input.size !== undefined) await this.dataSize.fill(String(input.size));
    if (input.unit !== undefined) await this.unit.selectOption(input.unit);
    if (input.expected !== undefined) await this.expected.fill(String(input.expected));
    if (input.instance !== undefined) await this.instance.fill(String(input.instance));
  }
}
