/**
 * Ferry's side of the console, faked for renderer unit tests: transports that answer calls the
 * way a test says, and the setup that puts the real ConsoleClient (which still checks every
 * envelope against the contract) over one of them as the renderer's console API, with a fresh
 * Pinia. Only Ferry is replaced; the stores and the client are the real ones. Never opens a
 * socket.
 */
import { createPinia, setActivePinia } from 'pinia';
import type { CallName } from '../../electron/contract/console.ts';
import { ConsoleClient, type Transport } from '../../renderer/src/api/client.ts';
import { setConsoleApi } from '../../renderer/src/api/current.ts';

/** A web console transport that logs what happens to it, in order. */
export abstract class FakeTransport implements Transport {
  readonly shell = 'web' as const;
  readonly hello = { protocolVersion: 1, appVersion: 'test' };
  /** "call <name>" per call and, once installed, "subscribe <event>" per subscription. */
  readonly log: string[] = [];
  abstract invoke(name: CallName, req: unknown): Promise<unknown>;
  close(): void {}
}

export interface PendingCall {
  name: CallName;
  req: unknown;
  resolve: (envelope: unknown) => void;
}

/** A transport whose answers the test hands out one by one. */
export class ScriptedTransport extends FakeTransport {
  readonly pending: PendingCall[] = [];
  invoke(name: CallName, req: unknown): Promise<unknown> {
    this.log.push(`call ${name}`);
    return new Promise((resolve) => this.pending.push({ name, req, resolve }));
  }
  /** Answers the oldest pending call of that name with a raw envelope; throws when there is none. */
  answer(name: CallName, envelope: unknown): PendingCall {
    const index = this.pending.findIndex((p) => p.name === name);
    if (index < 0) throw new Error(`no pending ${name}; pending: ${this.pending.map((p) => p.name).join(', ')}`);
    const [p] = this.pending.splice(index, 1) as [PendingCall];
    p.resolve(envelope);
    return p;
  }
}

/** Answers every call at once from a table of results. */
export class TableTransport extends FakeTransport {
  constructor(private readonly answers: Partial<Record<CallName, unknown>>) {
    super();
  }
  async invoke(name: CallName): Promise<unknown> {
    this.log.push(`call ${name}`);
    return { ok: true, result: this.answers[name] };
  }
}

/**
 * A fresh Pinia, and a ConsoleClient over `transport` as the renderer's console API; each
 * subscription is logged into `transport.log`, so a test can check it came before a call.
 */
export function installFakeConsole(transport: FakeTransport): ConsoleClient {
  setActivePinia(createPinia());
  const client = new ConsoleClient().attach(transport);
  const on = client.on.bind(client);
  client.on = ((event, handler) => {
    transport.log.push(`subscribe ${event}`);
    return on(event, handler);
  }) as ConsoleClient['on'];
  setConsoleApi(client);
  return client;
}

/** Lets the promises and timers already queued run. */
export const flush = () => new Promise((r) => setTimeout(r, 0));
