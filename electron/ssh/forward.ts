/**
 * Local port forwarding: a TCP server on 127.0.0.1 (ephemeral port) whose every connection is
 * tunnelled through the SSH session to an address and port as seen from the host (normally the
 * agent's loopback control port). Listens on loopback only, never on other interfaces.
 */
import net from 'node:net';
import type { SshSession } from './session.ts';
import { SshError } from './errors.ts';

export interface ForwardHandle {
  host: '127.0.0.1';
  port: number;
  /** Connections open right now. */
  connections(): number;
  /** Stops listening and ends the open connections. */
  close(): Promise<void>;
}

export async function forwardLocal(session: SshSession, remoteHost: string, remotePort: number): Promise<ForwardHandle> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pause();
    session.openTunnel(remoteHost, remotePort).then(
      (stream) => {
        if (socket.destroyed) {
          stream.destroy();
          return;
        }
        stream.on('error', () => socket.destroy());
        stream.on('close', () => socket.destroy());
        socket.on('close', () => stream.destroy());
        socket.pipe(stream).pipe(socket);
        socket.resume();
      },
      () => socket.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new SshError('forward-failed', `Ferry could not listen on 127.0.0.1 for a tunnel to ${session.label} (${err.message}).`)));
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new SshError('forward-failed', 'Ferry could not learn the local tunnel port.');
  const onClose = (): void => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  session.once('close', onClose);
  return {
    host: '127.0.0.1',
    port: address.port,
    connections: () => sockets.size,
    close: async () => {
      session.off('close', onClose);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
