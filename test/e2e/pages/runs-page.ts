/** Page object for the Runs step: tasks with a Run button, the run list, and one run's page. */
import type { Locator, Page } from 'playwright-core';

export class RunsPage {
  readonly view: Locator;
  readonly tasks: Locator;
  readonly rows: Locator;
  readonly empty: Locator;
  readonly detail: Locator;
  readonly state: Locator;
  readonly phase: Locator;
  readonly progressBar: Locator;
  readonly chart: Locator;
  readonly chartSeries: Locator;
  readonly agents: Locator;
  readonly links: Locator;
  readonly notes: Locator;
  readonly pause: Locator;
  readonly resume: Locator;
  readonly cancel: Locator;
  readonly cancelConfirm: Locator;
  readonly verdict: Locator;
  readonly reportLink: Locator;

  constructor(readonly page: Page) {
    this.view = page.locator('[data-test=runs-view]');
    this.tasks = page.locator('[data-test=runs-task]');
    this.rows = page.locator('[data-test=run-row]');
    this.empty = page.locator('[data-test=runs-empty]');
    this.detail = page.locator('[data-test=run-detail]');
    this.state = this.detail.locator('[data-test=run-state]');
    this.phase = this.detail.locator('[data-test=run-phase]');
    this.progressBar = this.detail.locator('[data-test=run-progress-bar]');
    this.chart = this.detail.locator('[data-test=throughput-chart]');
    this.chartSeries = this.chart.locator('[data-test=chart-series]');
    this.agents = this.detail.locator('[data-test=run-agent]');
    this.links = this.detail.locator('[data-test=run-link]');
    this.notes = this.detail.locator('[data-test=run-note]');
    this.pause = this.detail.locator('[data-test=run-pause]');
    this.resume = this.detail.locator('[data-test=run-resume]');
    this.cancel = this.detail.locator('[data-test=run-cancel]');
    this.cancelConfirm = this.detail.locator('[data-test=run-cancel-confirm]');
    this.verdict = this.detail.locator('[data-test=run-verdict]');
    this.reportLink = this.detail.locator('[data-test=run-report-link]');
  }

  /** The Run button of a task (on the Tasks or the Runs step). */
  runButton(task: string): Locator {
    return this.page.locator(`[data-test=run-task][data-task="${task}"]`);
  }

  figure(name: 'entries' | 'bytes' | 'rate' | 'files-rate' | 'eta' | 'problems' | 'elapsed'): Locator {
    return this.detail.locator(`[data-test=run-figure][data-figure="${name}"]`);
  }

  async figureValue(name: 'entries' | 'bytes' | 'rate' | 'problems'): Promise<number> {
    return Number(await this.figure(name).getAttribute('data-value'));
  }

  async stateName(): Promise<string | null> {
    return this.state.getAttribute('data-state');
  }

  async fraction(): Promise<number> {
    return Number(await this.progressBar.getAttribute('data-fraction'));
  }
}
