/**
 * The renderer's view of Ferry: one interface over both transports (Electron IPC through the
 * preload, and HTTP + WebSocket for the web console). Everything is typed from the console
 * contract; nothing here is written twice.
 */
import type {
  CallName,
  CallRequest,
  CallResponse,
  ConsoleError,
  ConsoleErrorCode,
  EventName,
  EventPayload,
  Hello,
} from '../../../electron/contract/console.ts';

export type { CallName, CallRequest, CallResponse, EventName, EventPayload, Hello };

/** `online`: calls and events flow. `reconnecting`: the event stream dropped and is being re-established. */
export type ConnectionState = 'online' | 'reconnecting';

export interface ConsoleApi {
  readonly hello: Hello;
  readonly shell: 'electron' | 'web';
  call<N extends CallName>(name: N, req: CallRequest<N>): Promise<CallResponse<N>>;
  /** Subscribes to one event; the payload is validated against the contract before the handler sees it. */
  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void;
  readonly connection: ConnectionState;
  onConnection(handler: (state: ConnectionState) => void): () => void;
  /** Called after the event stream came back from a drop: events may have been missed, reload snapshots. */
  onReconnect(handler: () => void): () => void;
  /** Called when Ferry turns out to speak another protocol (e.g. it was upgraded and restarted). */
  onFatal(handler: (error: StartupError) => void): () => void;
  close(): void;
}

export type Issue = NonNullable<ConsoleError['issues']>[number];

/** A call that Ferry answered with `{ok: false}`, or whose answer did not match the contract. */
export class ConsoleCallError extends Error {
  override readonly name = 'ConsoleCallError';
  readonly code: ConsoleErrorCode;
  readonly issues: readonly Issue[];
  readonly call: string;

  constructor(call: string, error: ConsoleError) {
    super(error.message);
    this.call = call;
    this.code = error.code;
    this.issues = error.issues ?? [];
  }

  /** First problem per field path ('' for the request as a whole). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const issue of this.issues) out[issue.path] ??= issue.message;
    return out;
  }
}

/** The transport itself failed: Ferry is not running or not reachable. */
export class ConsoleUnreachableError extends Error {
  override readonly name = 'ConsoleUnreachableError';
  readonly call: string;
  constructor(call: string, cause: unknown) {
    super(`Ferry did not answer "${call}": ${cause instanceof Error ? cause.message : String(cause)}`);
    this.call = call;
  }
}

export type StartupProblem =
  | { kind: 'protocol'; console: number; ferry: number }
  | { kind: 'no-token' }
  | { kind: 'unauthorized' }
  | { kind: 'unreachable'; detail: string };

/** Why the console cannot start; shown as a full-page error. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(readonly problem: StartupProblem) {
    super(`Ferry console cannot start: ${problem.kind}`);
  }
}
