/**
 * Page object for one host's details on the Hosts screen (connection test, facts, prerequisites,
 * agent) and the dialogs it opens (host key, password), plus "Import from SSH config".
 */
import type { Locator, Page } from 'playwright-core';

export type AgentButton = 'deploy' | 'stop' | 'restart' | 'uninstall' | 'log';

export class HostDetailPage {
  readonly panel: Locator;
  readonly testButton: Locator;
  readonly connectionState: Locator;
  readonly busy: Locator;
  readonly failure: Locator;
  readonly keyChanged: Locator;
  readonly facts: Locator;
  readonly prereqSummary: Locator;
  readonly agent: Locator;
  readonly agentState: Locator;
  readonly agentLog: Locator;
  readonly agentDeployed: Locator;
  readonly keyDialog: Locator;
  readonly keyFingerprint: Locator;
  readonly keyCommand: Locator;
  readonly acceptKey: Locator;
  readonly cancelKey: Locator;
  readonly secretDialog: Locator;
  readonly secretInput: Locator;
  readonly secretWrong: Locator;
  readonly secretSubmit: Locator;

  constructor(
    readonly page: Page,
    readonly hostName: string,
  ) {
    this.panel = page.locator(`[data-test=host-detail][data-host-name="${hostName}"]`);
    this.testButton = this.panel.locator('[data-test=test-connection]');
    this.connectionState = this.panel.locator('[data-test=connection-state]');
    this.busy = this.panel.locator('[data-test=host-busy]');
    this.failure = this.panel.locator('[data-test=host-failure]');
    this.keyChanged = this.panel.locator('[data-test=host-key-changed]');
    this.facts = this.panel.locator('[data-test=host-facts]');
    this.prereqSummary = this.facts.locator('[data-test=prereq-summary]');
    this.agent = this.panel.locator('[data-test=agent]');
    this.agentState = this.agent.locator('[data-test=agent-state]');
    this.agentLog = this.agent.locator('[data-test=agent-log-text]');
    this.agentDeployed = this.agent.locator('[data-test=agent-deployed]');
    this.keyDialog = page.locator('[data-test=host-key-dialog]');
    this.keyFingerprint = this.keyDialog.locator('[data-test=host-key-fingerprint]');
    this.keyCommand = this.keyDialog.locator('[data-test=host-key-command] [data-test=code]');
    this.acceptKey = this.keyDialog.locator('[data-test=accept-host-key]');
    this.cancelKey = this.keyDialog.locator('[data-test=cancel-host-key]');
    this.secretDialog = page.locator('[data-test=secret-dialog]');
    this.secretInput = this.secretDialog.locator('[data-test=secret-input]');
    this.secretWrong = this.secretDialog.locator('[data-test=secret-wrong]');
    this.secretSubmit = this.secretDialog.locator('[data-test=secret-submit]');
  }

  /** Opens the host's details from its inventory row. */
  async open(): Promise<void> {
    await this.page.locator(`[data-test=host-row][data-host-name="${this.hostName}"] [data-test=manage-host]`).click();
    await this.panel.waitFor();
  }

  fact(name: 'os' | 'hostname' | 'arch' | 'cores' | 'memory' | 'disk' | 'root'): Locator {
    return this.facts.locator(`[data-test=fact-${name}]`);
  }

  prerequisite(code: 'cpu-cores' | 'memory' | 'disk-free'): Locator {
    return this.facts.locator(`[data-test=prereq-${code}]`);
  }

  agentButton(name: AgentButton): Locator {
    return this.agent.locator(`[data-test=agent-${name}]`);
  }

  /** Clicks an agent action and, for Stop / Restart / Uninstall, confirms it. */
  async agentAction(name: AgentButton): Promise<void> {
    await this.agentButton(name).click();
    if (name === 'stop' || name === 'restart' || name === 'uninstall') await this.agent.locator('[data-test=agent-confirm-yes]').click();
  }

  async giveSecret(value: string): Promise<void> {
    await this.secretInput.fill(value);
    await this.secretSubmit.click();
  }
}
