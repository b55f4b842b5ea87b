// Stand-in for the Ferry agent (dist/agent/agent.mjs) in deployment tests, until or unless the real
// one is used (see agent-bundle.ts). Same command line and ready line as the real agent:
//   node agent.mjs serve --home DIR [--data-listen HOST:PORT]
// prints {"ready":true,"controlPort":N,"dataPort":N,"fingerprint":"…","version":"…","agentId":"…","pid":N}
// once both ports listen. The control port answers "ping" with "pong <version>". SIGTERM ends it.
// If DIR/stand-in-fail exists it fails at start (to test start failures).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const VERSION = '__STAND_IN_VERSION__';
const args = process.argv.slice(2);
if (args[0] !== 'serve') {
  console.error('usage: agent.mjs serve --home DIR [--data-listen HOST:PORT]');
  process.exit(2);
}
const home = args[args.indexOf('--home') + 1];
const dataListen = args.includes('--data-listen') ? args[args.indexOf('--data-listen') + 1] : '0.0.0.0:0';
if (!home) {
  console.error('serve: --home is required');
  process.exit(2);
}
if (fs.existsSync(path.join(home, 'stand-in-fail'))) {
  console.error('stand-in agent: failing on purpose (stand-in-fail exists)');
  process.exit(3);
}
const [dataHost, dataPort] = [dataListen.slice(0, dataListen.lastIndexOf(':')), Number(dataListen.slice(dataListen.lastIndexOf(':') + 1))];

const control = net.createServer((socket) => {
  let buffer = '';
  socket.on('data', (chunk) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      socket.write(line === 'ping' ? `pong ${VERSION}\n` : `unknown ${line}\n`);
    }
  });
  socket.on('error', () => socket.destroy());
});
const data = net.createServer((socket) => socket.end());

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server.address().port));
  });
}

const controlPort = await listen(control, 0, '127.0.0.1');
const boundDataPort = await listen(data, dataPort, dataHost);
process.on('SIGTERM', () => {
  control.close();
  data.close();
  process.exit(0);
});
console.log('stand-in agent starting');
console.log(JSON.stringify({ ready: true, controlPort, dataPort: boundDataPort, fingerprint: `stand-in-${VERSION}`, version: VERSION, agentId: `stand-in-${process.pid}`, pid: process.pid }));
