/**
 * A local agent process kept alive for the duration of a task: launched with a fixed home, restarted
 * (same home, same data port, so workers find their coordinator again) when it dies unexpectedly, at
 * most `maxRestarts` times. Holds a control client to the current process. The agent itself resumes
 * its tasks from its home after a restart; this class only brings the process back.
 */
import type { AgentProcess, AgentLocation } from './launch.ts';
import { launchAgent } from './launch.ts';
import { ControlClient } from './control-client.ts';

export interface ManagedAgentOptions {
  role: string;
  home: string;
  location: AgentLocation;
  maxRestarts?: number;
  uid?: number;
  gid?: number;
  onRestart?: (role: string, pid: number, reason: string) => void;
}

export class ManagedAgent {
  readonly opts: ManagedAgentOptions;
  proc: AgentProcess | null = null;
  client: ControlClient | null = null;
  restarts = 0;
  private stopping = false;
  private restarting: Promise<void> | null = null;
  private lastError: string | null = null;

  constructor(opts: ManagedAgentOptions) {
    this.opts = opts;
  }

  get pid(): number {
    return this.proc?.child.pid ?? 0;
  }

  async start(): Promise<void> {
    const dataListen = this.proc ? `127.0.0.1:${this.proc.ready.dataPort}` : undefined;
    const proc = await launchAgent({
      home: this.opts.home,
      location: this.opts.location,
      ...(dataListen ? { dataListen } : {}),
      ...(this.opts.uid !== undefined ? { uid: this.opts.uid } : {}),
      ...(this.opts.gid !== undefined ? { gid: this.opts.gid } : {}),
    });
    this.proc = proc;
    this.client?.close();
    this.client = await ControlClient.connect(proc.ready.controlPort, proc.token);
    void proc.exited.then((code) => this.onExit(proc, code));
  }

  /** The current client, waiting for a restart in progress. */
  async ready(): Promise<ControlClient> {
    if (this.restarting) await this.restarting;
    if (!this.client) throw new Error(`The ${this.opts.role} agent is not running${this.lastError ? `: ${this.lastError}` : ''}.`);
    return this.client;
  }

  get failed(): string | null {
    return this.client ? null : this.lastError;
  }

  private onExit(proc: AgentProcess, code: number | string): void {
    if (this.stopping || this.proc !== proc) return;
    this.client?.close();
    this.client = null;
    const why = `exited unexpectedly (${code})${proc.stderrTail.length ? `: ${proc.stderrTail.slice(-3).join(' | ')}` : ''}`;
    if (this.restarts >= (this.opts.maxRestarts ?? 10)) {
      this.lastError = `the ${this.opts.role} agent ${why}, and was restarted ${this.restarts} times already`;
      return;
    }
    this.restarts++;
    this.restarting = this.startWithRetry().then(
      () => {
        this.restarting = null;
        this.opts.onRestart?.(this.opts.role, this.pid, why);
      },
      (err: unknown) => {
        this.restarting = null;
        this.lastError = `could not restart the ${this.opts.role} agent: ${err instanceof Error ? err.message : String(err)}`;
      },
    );
  }

  private async startWithRetry(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.start();
        return;
      } catch (err) {
        // The old data port may still be held for a moment: retry, then give up.
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      }
    }
  }

  /** Graceful stop (agent.shutdown), then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    this.stopping = true;
    const proc = this.proc;
    if (!proc) return;
    try {
      await this.client?.call('agent.shutdown', {});
    } catch {
      // already gone
    }
    this.client?.close();
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 3000);
    await proc.exited;
    clearTimeout(timer);
  }

  kill(): void {
    this.stopping = true;
    this.proc?.child.kill('SIGKILL');
  }
}
