/**
 * Web console transport: `fetch` for calls, one WebSocket for events.
 *
 * The page is opened as http://127.0.0.1:PORT/?token=TOKEN. The token moves to sessionStorage
 * and out of the address bar (so it does not end up in history, bookmarks or screenshots);
 * calls carry it as `Authorization: Bearer`, the socket as `?token=`. When the socket drops it
 * is re-opened with backoff; each new socket starts with Hello, after which stores reload.
 */
import { CONSOLE_PROTOCOL_VERSION, Hello, type CallName } from '../../../electron/contract/console.ts';
import type { Transport, TransportSink } from './client.ts';
import { ConsoleUnreachableError, StartupError } from './types.ts';

const TOKEN_KEY = 'ferry.console.token';
const FIRST_SOCKET_WAIT_MS = 5000;
const MAX_BACKOFF_MS = 10_000;

/** Takes the access token from the URL (then hides it) or from this tab's sessionStorage. */
export function takeToken(): string | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    try {
      sessionStorage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      // Storage may be disabled; the token then only lives for this page load.
    }
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
    return fromUrl;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function forgetToken(): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing to forget
  }
}

export async function openWebTransport(sink: TransportSink): Promise<Transport> {
  const token = takeToken();
  if (!token) throw new StartupError({ kind: 'no-token' });
  const origin = window.location.origin;
  const hello = await fetchHello(origin, token);
  if (hello.protocolVersion !== CONSOLE_PROTOCOL_VERSION) {
    throw new StartupError({ kind: 'protocol', console: CONSOLE_PROTOCOL_VERSION, ferry: hello.protocolVersion });
  }
  const socketUrl = `${origin.replace(/^http/, 'ws')}/api/events?token=${encodeURIComponent(token)}`;
  // While the socket keeps failing, ask /api/hello why: a restarted Ferry has a new token (or
  // another protocol), and no amount of retrying fixes that.
  const probe = async (): Promise<StartupError | null> => {
    try {
      const now = await fetchHello(origin, token);
      return now.protocolVersion === CONSOLE_PROTOCOL_VERSION
        ? null
        : new StartupError({ kind: 'protocol', console: CONSOLE_PROTOCOL_VERSION, ferry: now.protocolVersion });
    } catch (err) {
      return err instanceof StartupError && err.problem.kind === 'unauthorized' ? err : null;
    }
  };
  const events = new EventSocket(socketUrl, sink, probe);
  await events.start();

  return {
    shell: 'web',
    hello,
    async invoke(name: CallName, req: unknown): Promise<unknown> {
      let res: Response;
      try {
        res = await fetch(`${origin}/api/call/${encodeURIComponent(name)}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(req ?? {}),
          cache: 'no-store',
        });
      } catch (err) {
        throw new ConsoleUnreachableError(name, err);
      }
      try {
        return (await res.json()) as unknown;
      } catch {
        return { ok: false, error: { code: res.status === 401 ? 'unauthorized' : 'internal', message: `Ferry answered HTTP ${res.status} without a result.` } };
      }
    },
    close: () => events.stop(),
  };
}

async function fetchHello(origin: string, token: string): Promise<Hello> {
  let res: Response;
  try {
    res = await fetch(`${origin}/api/hello`, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
  } catch (err) {
    throw new StartupError({ kind: 'unreachable', detail: err instanceof Error ? err.message : String(err) });
  }
  if (res.status === 401) {
    forgetToken();
    throw new StartupError({ kind: 'unauthorized' });
  }
  const body: unknown = await res.json().catch(() => null);
  const hello = Hello.safeParse(body);
  if (!res.ok || !hello.success) throw new StartupError({ kind: 'unreachable', detail: `HTTP ${res.status} from /api/hello` });
  return hello.data;
}

/** The event socket, re-opened with capped exponential backoff whenever it drops. */
class EventSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private greetedOnce = false;
  private firstSettled: (() => void) | null = null;
  private readonly retryNow = () => {
    if (!this.ws && this.timer && !this.stopped) {
      clearTimeout(this.timer);
      this.timer = null;
      this.open();
    }
  };

  constructor(
    private readonly url: string,
    private readonly sink: TransportSink,
    private readonly probe: () => Promise<StartupError | null>,
  ) {}

  /** Resolves when the first socket greeted us, or when it failed (the console then shows "reconnecting"). */
  start(): Promise<void> {
    window.addEventListener('online', this.retryNow);
    return new Promise<void>((resolve) => {
      const timeout = setTimeout(() => this.settleFirst(), FIRST_SOCKET_WAIT_MS);
      this.firstSettled = () => {
        clearTimeout(timeout);
        resolve();
      };
      this.open();
    });
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.retryNow);
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000);
    this.ws = null;
  }

  private settleFirst(): void {
    const settle = this.firstSettled;
    this.firstSettled = null;
    settle?.();
  }

  private open(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    let greeted = false;
    ws.onmessage = (message: MessageEvent) => {
      let data: unknown;
      try {
        data = JSON.parse(String(message.data));
      } catch {
        return;
      }
      if (greeted) {
        this.sink.event(data);
        return;
      }
      greeted = true;
      const hello = Hello.safeParse(data);
      if (!hello.success || hello.data.protocolVersion !== CONSOLE_PROTOCOL_VERSION) {
        this.stop();
        this.sink.fatal(
          new StartupError({ kind: 'protocol', console: CONSOLE_PROTOCOL_VERSION, ferry: hello.success ? hello.data.protocolVersion : -1 }),
        );
        this.settleFirst();
        return;
      }
      this.attempt = 0;
      this.sink.setConnection('online');
      // Any greeting after the first means events may have been missed in between.
      if (this.greetedOnce) this.sink.reconnected();
      this.greetedOnce = true;
      this.settleFirst();
    };
    ws.onclose = () => {
      if (this.ws !== ws || this.stopped) return;
      this.ws = null;
      this.sink.setConnection('reconnecting');
      // Count a never-greeted first socket as a greeting for reload purposes: stores loaded
      // over HTTP meanwhile and must reload once events flow.
      this.greetedOnce = true;
      this.settleFirst();
      this.schedule();
      if (this.attempt >= 3) void this.checkFatal();
    };
  }

  private async checkFatal(): Promise<void> {
    const problem = await this.probe();
    if (!problem || this.stopped) return;
    this.stop();
    this.sink.fatal(problem);
  }

  private schedule(): void {
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
    this.attempt += 1;
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.open();
    }, delay);
  }
}
