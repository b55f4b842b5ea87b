/**
 * What the integration tests that drive a Controller against the lab's sshd hosts share: opening
 * a Controller the way they need it (this build's agents, no user known_hosts, every event kept),
 * calling it like the console does with every answer parsed by the contract, adding lab hosts,
 * waiting for a condition, and tearing it all down. It never starts a lab or decides a test's
 * plan; each test keeps its own hosts, tunnels and tasks.
 */
import { promises as fs } from 'node:fs';
import { consoleCalls, type CallName, type CallRequest, type CallResponse, type EventEnvelope, type MountHostCheck } from '../../electron/contract/console.ts';
import { Controller, type ControllerOptions } from '../../electron/controller/controller.ts';
import type { TestLab } from './test-hosts.ts';

export type ContractCall = <N extends CallName>(name: N, req: CallRequest<N>) => Promise<CallResponse<N>>;

/**
 * A Controller on `dataDir` for lab tests: the web shell, the agents of `distDir`, the user's
 * known_hosts ignored; `onEvent` sees every event it emits.
 */
export async function openLabController(
  options: Pick<ControllerOptions, 'dataDir' | 'distDir' | 'clock'> & { appVersion?: string },
  onEvent: (event: EventEnvelope) => void,
): Promise<Controller> {
  const { appVersion = '0.1.0-test', ...rest } = options;
  const controller = await Controller.open({ ...rest, appVersion, shell: 'web', userKnownHostsFile: null });
  controller.subscribe(onEvent);
  return controller;
}

/**
 * Calls through the dispatch of the Controller open now (tests reopen theirs) and parses the
 * answer with the contract's schema; a refusal throws with Ferry's code and message.
 */
export function contractCaller(controller: () => Controller): ContractCall {
  return async (name, req) => {
    const result = await controller().dispatch(name, req);
    if (!result.ok) throw new Error(`${name} failed: ${result.error.code}: ${result.error.message}`);
    return consoleCalls[name].res.parse(result.result) as CallResponse<typeof name>;
  };
}

/** One host of a directory check (mounts.check, addresses.check) that Ferry reached; throws with its answer otherwise. */
export function reachedHost(result: { hosts: MountHostCheck[] }, name: string): Extract<MountHostCheck, { ok: true }> {
  const h = result.hosts.find((x) => x.hostName === name);
  if (!h?.ok) throw new Error(`${name} was not reached: ${JSON.stringify(h)}`);
  return h;
}

/** The codes of a host check's findings, sorted. */
export function findingCodes(h: { findings: Array<{ code: string }> }): string[] {
  return h.findings.map((f) => f.code).sort();
}

/** Adds lab hosts by name, each logging in with the lab's client key. */
export async function addLabHosts(call: ContractCall, lab: TestLab, names: readonly string[]): Promise<void> {
  for (const name of names) await call('hosts.add', { name, address: lab.host(name).address, auth: { kind: 'key', keyFile: lab.clientKey.path } });
}

/** Polls `check` every `intervalMs` until it holds; after `timeoutMs` throws, saying what it waited for. */
export async function waitFor(what: string | (() => string), check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Closes the Controller, destroys the lab and removes the work directory: each one that was made. */
export async function closeLab(parts: { controller?: Controller | undefined; lab?: TestLab | undefined; work?: string | undefined }): Promise<void> {
  await parts.controller?.close();
  await parts.lab?.destroy();
  if (parts.work) await fs.rm(parts.work, { recursive: true, force: true });
}
