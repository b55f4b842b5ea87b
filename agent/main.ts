/**
 * The agent program (bundled into dist/agent/agent.mjs, run on Ferry's Node 24 runtime):
 *   agent.mjs serve --home DIR [--control-port N] [--data-listen HOST:PORT] [--exit-with-parent]
 *   agent.mjs scan DIR --json [--max-seconds N]   (probe/scan.ts; one ScanSummary JSON line on stdout)
 * serve prints one JSON line (protocol/control.ts ReadyLine) on stdout once both listeners are up, then
 * logs only to stderr. --exit-with-parent: stop when stdin closes (the launcher died), so a killed
 * CLI never leaves agents behind. Owns argument parsing and process lifetime only.
 */
import { parseArgs } from 'node:util';
import { Agent } from './engine/agent.ts';
import { runScanCommand } from './probe/scan-command.ts';
import { FERRY_VERSION } from './version.ts';

const USAGE = 'Usage: agent.mjs serve --home DIR [--control-port N] [--data-listen HOST:PORT] [--exit-with-parent]\n       agent.mjs scan DIR --json [--max-seconds N]';

function parseListen(value: string | undefined): { host: string; port: number } {
  if (!value) return { host: '127.0.0.1', port: 0 };
  const i = value.lastIndexOf(':');
  const host = i > 0 ? value.slice(0, i).replace(/^\[|\]$/g, '') : '0.0.0.0';
  const port = Number(i >= 0 ? value.slice(i + 1) : value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--data-listen wants HOST:PORT, not "${value}".`);
  return { host, port };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version') {
    console.log(FERRY_VERSION);
    return 0;
  }
  if (command === 'scan') return runScanCommand(rest);
  if (command !== 'serve') {
    console.error(USAGE);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      home: { type: 'string' },
      'control-port': { type: 'string' },
      'data-listen': { type: 'string' },
      'exit-with-parent': { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.home) {
    console.error(`--home is required.\n${USAGE}`);
    return 2;
  }
  const listen = parseListen(values['data-listen']);
  const agent = new Agent({ home: values.home, controlPort: Number(values['control-port'] ?? 0), dataHost: listen.host, dataPort: listen.port });
  const ready = await agent.start();
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  const stop = () => {
    void agent.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (values['exit-with-parent']) {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    console.error(`ferry agent: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
