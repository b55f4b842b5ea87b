/**
 * The transport-independent half of the console client: validates every answer and event
 * against the contract's schemas on arrival, turns `{ok:false}` into a typed ConsoleCallError
 * and fans events out to subscribers. Transports only move JSON.
 * No DOM here, so unit tests run it in Node with a fake transport.
 */
import {
  CallResult,
  consoleCalls,
  consoleEvents,
  EventEnvelope,
  type CallName,
  type CallRequest,
  type CallResponse,
  type EventName,
  type EventPayload,
  type Hello,
} from '../../../electron/contract/console.ts';
import { ConsoleCallError, type ConsoleApi, type ConnectionState, type StartupError } from './types.ts';

/** What a transport provides: raw envelopes in and out. */
export interface Transport {
  readonly shell: 'electron' | 'web';
  readonly hello: Hello;
  /** Resolves with the raw CallResult envelope; rejects with ConsoleUnreachableError when Ferry cannot be reached. */
  invoke(name: CallName, req: unknown): Promise<unknown>;
  close(): void;
}

/** What a transport reports back. */
export interface TransportSink {
  event(raw: unknown): void;
  setConnection(state: ConnectionState): void;
  reconnected(): void;
  fatal(error: StartupError): void;
}

type Listener<T> = (value: T) => void;

class Listeners<T> {
  private readonly set = new Set<Listener<T>>();
  add(fn: Listener<T>): () => void {
    this.set.add(fn);
    return () => this.set.delete(fn);
  }
  emit(value: T): void {
    for (const fn of [...this.set]) {
      try {
        fn(value);
      } catch (err) {
        console.error('Ferry console: a listener failed', err);
      }
    }
  }
}

export class ConsoleClient implements ConsoleApi, TransportSink {
  private transport: Transport | null = null;
  private readonly eventListeners = new Map<string, Listeners<unknown>>();
  private readonly connectionListeners = new Listeners<ConnectionState>();
  private readonly reconnectListeners = new Listeners<void>();
  private readonly fatalListeners = new Listeners<StartupError>();
  private state: ConnectionState = 'online';

  attach(transport: Transport): this {
    this.transport = transport;
    return this;
  }

  private get t(): Transport {
    if (!this.transport) throw new Error('Ferry console client used before its transport was attached.');
    return this.transport;
  }

  get hello(): Hello {
    return this.t.hello;
  }

  get shell(): 'electron' | 'web' {
    return this.t.shell;
  }

  get connection(): ConnectionState {
    return this.state;
  }

  async call<N extends CallName>(name: N, req: CallRequest<N>): Promise<CallResponse<N>> {
    // The same schema Ferry validates with: a bad form gets its field errors without a round trip.
    // What is sent is still the caller's request; Ferry applies defaults and validates again.
    const checked = consoleCalls[name].req.safeParse(req);
    if (!checked.success) {
      const issues = checked.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
      const first = issues[0];
      const summary = first ? `${first.path ? `${first.path}: ` : ''}${first.message}` : 'schema mismatch';
      throw new ConsoleCallError(name, { code: 'invalid-request', message: `Invalid request for ${name}: ${summary}`, issues });
    }
    const raw = await this.t.invoke(name, req);
    const envelope = CallResult.safeParse(raw);
    if (!envelope.success) {
      throw new ConsoleCallError(name, { code: 'internal', message: `Ferry sent a malformed answer to "${name}".` });
    }
    if (!envelope.data.ok) throw new ConsoleCallError(name, envelope.data.error);
    const parsed = consoleCalls[name].res.safeParse(envelope.data.result);
    if (!parsed.success) {
      throw new ConsoleCallError(name, {
        code: 'version-mismatch',
        message: `Ferry's answer to "${name}" does not match what this console expects; reload the console.`,
      });
    }
    return parsed.data as CallResponse<N>;
  }

  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void {
    let listeners = this.eventListeners.get(event);
    if (!listeners) {
      listeners = new Listeners<unknown>();
      this.eventListeners.set(event, listeners);
    }
    return listeners.add(handler as Listener<unknown>);
  }

  onConnection(handler: (state: ConnectionState) => void): () => void {
    return this.connectionListeners.add(handler);
  }

  onReconnect(handler: () => void): () => void {
    return this.reconnectListeners.add(handler);
  }

  onFatal(handler: (error: StartupError) => void): () => void {
    return this.fatalListeners.add(handler);
  }

  close(): void {
    this.transport?.close();
  }

  // TransportSink

  event(raw: unknown): void {
    const envelope = EventEnvelope.safeParse(raw);
    if (!envelope.success) {
      console.warn('Ferry console: ignored a malformed event message');
      return;
    }
    const name = envelope.data.event;
    // Events this console does not know (a newer Ferry) are ignored, not fatal.
    if (!Object.hasOwn(consoleEvents, name)) return;
    const payload = consoleEvents[name as EventName].safeParse(envelope.data.payload);
    if (!payload.success) {
      console.warn(`Ferry console: ignored a "${name}" event that does not match the contract`);
      return;
    }
    this.eventListeners.get(name)?.emit(payload.data);
  }

  setConnection(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.connectionListeners.emit(state);
  }

  reconnected(): void {
    this.reconnectListeners.emit();
  }

  fatal(error: StartupError): void {
    this.fatalListeners.emit(error);
  }
}
