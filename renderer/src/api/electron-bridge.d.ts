/**
 * What electron/preload.ts exposes as `window.ferry` (contextBridge). Present only inside the
 * desktop app; the web console has no such global and talks HTTP + WebSocket instead.
 */
import type { CallResult, EventEnvelope, Hello } from '../../../electron/contract/console.ts';

export interface FerryBridge {
  readonly shell: 'electron';
  hello(): Promise<Hello>;
  call(name: string, req: unknown): Promise<CallResult>;
  onEvent(callback: (envelope: EventEnvelope) => void): () => void;
}

declare global {
  interface Window {
    ferry?: FerryBridge;
  }
}
