/**
 * The error a connection is closed with when the peer broke the wire protocol (bad frame, bad hello,
 * wrong token or certificate). Code from protocol/wire.ts; the message says what to do.
 */
import type { WireErrorCode } from '../protocol/wire.ts';

export class WireError extends Error {
  readonly code: WireErrorCode;
  constructor(code: WireErrorCode, message: string) {
    super(message);
    this.name = 'WireError';
    this.code = code;
  }
}
