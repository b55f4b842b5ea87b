/**
 * Owns the agent's TLS identity and the pinned TLS dial. Each agent has a self-signed P-256
 * certificate (made with openssl on first start, kept in its home); peers trust it only by its
 * fingerprint (SHA-256 of the DER certificate, lowercase hex), never by a CA or a host name.
 * `dialPinned` checks the fingerprint before a single byte of application data is sent, so a token
 * never reaches an impostor.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { WireError } from './wire-error.ts';

export interface TlsIdentity {
  cert: Buffer;
  key: Buffer;
  fingerprint: string;
}

export function fingerprintOfDer(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

export function fingerprintOfPem(pem: Buffer | string): string {
  return fingerprintOfDer(new X509Certificate(pem).raw);
}

/** Loads DIR/tls/{cert,key}.pem, creating them on first use. */
export function loadOrCreateIdentity(home: string): TlsIdentity {
  const dir = path.join(home, 'tls');
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  if (!fs.existsSync(certPath) || !fs.existsSync(keyPath)) createIdentity(dir, certPath, keyPath);
  const cert = fs.readFileSync(certPath);
  const key = fs.readFileSync(keyPath);
  return { cert, key, fingerprint: fingerprintOfPem(cert) };
}

function createIdentity(dir: string, certPath: string, keyPath: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmpCert = `${certPath}.tmp`;
  const tmpKey = `${keyPath}.tmp`;
  // prettier-ignore
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', tmpKey, '-out', tmpCert, '-days', '3650', '-subj', '/CN=ferry-agent',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  fs.chmodSync(tmpKey, 0o600);
  // Key first: a cert without its key would be unusable, a key without a cert is regenerated.
  fs.renameSync(tmpKey, keyPath);
  fs.renameSync(tmpCert, certPath);
}

export interface DialTarget {
  host: string;
  port: number;
  fingerprint: string;
}

/** Opens a TLS connection and resolves once the peer proved it holds the pinned certificate. */
export function dialPinned(target: DialTarget, timeoutMs = 10_000): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      rejectUnauthorized: false, // self-signed by design: trust comes from the pinned fingerprint below
      checkServerIdentity: () => undefined,
      minVersion: 'TLSv1.3',
    });
    const timer = setTimeout(() => fail(new Error(`Timed out connecting to ${target.host}:${target.port}.`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      const peer = socket.getPeerCertificate(false);
      const got = peer && peer.raw ? fingerprintOfDer(peer.raw) : '(none)';
      if (got !== target.fingerprint.toLowerCase()) {
        socket.destroy();
        reject(
          new WireError(
            'wrong-certificate',
            `The agent at ${target.host}:${target.port} presented certificate ${got.slice(0, 16)}…, not the pinned ${target.fingerprint.slice(0, 16)}…: refusing to talk to it. Check that the address points at the right agent (or re-pair it).`,
          ),
        );
        return;
      }
      resolve(socket);
    });
  });
}

export function createTlsServer(identity: TlsIdentity, onSocket: (socket: tls.TLSSocket) => void): tls.Server {
  const server = tls.createServer({ cert: identity.cert, key: identity.key, minVersion: 'TLSv1.3' }, onSocket);
  // A client that fails the TLS handshake (e.g. plain TCP garbage) is simply dropped.
  server.on('tlsClientError', () => undefined);
  return server;
}
