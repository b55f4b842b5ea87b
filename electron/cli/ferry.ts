/**
 * The `ferry` command line. Each subcommand lives in its own module; this file only parses the
 * first word and dispatches. Runs on the operator's Node >= 20 (agents run on Ferry's own Node 24).
 */
import { FERRY_VERSION } from '../../agent/version.ts';
import { CliUsageError } from './args.ts';

const HELP = `Ferry ${FERRY_VERSION}: verified NAS-to-NAS migration.

Usage: ferry <command> [options]

Commands:
  console              Start the web console on 127.0.0.1 and print its URL
  migrate SRC DEST     Migrate a directory tree with local agents, verified (see: ferry migrate --help)
  scan DIR             Pre-migration analysis of a tree (see: ferry scan --help)
  migrate --plan FILE  Run a plan task on the plan's hosts over SSH, host to host (ferry migrate --plan --help)
  plan check FILE      Validate a migration plan file (hosts, tunnels, addresses, tasks); --hosts checks them live
  help                 Show this help

Options:
  -h, --help           Show help
  -v, --version        Print the version

Run "ferry <command> --help" for a command's options.`;

type Command = (argv: string[]) => Promise<number>;

// Every command is loaded on demand: the build splits them into chunks, so `ferry migrate` never
// loads the console's server, SSH or YAML code (that alone halves its start-up).
const commands: Record<string, () => Promise<Command>> = {
  console: async () => (await import('./console.ts')).runConsoleCli,
  plan: async () => (await import('./plan.ts')).runPlanCli,
  migrate: async () => (await import('./migrate.ts')).runMigrateCli,
  scan: async () => (await import('./scan.ts')).runScanCli,
};

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    console.log(HELP);
    return 0;
  }
  if (first === '-v' || first === '--version') {
    console.log(FERRY_VERSION);
    return 0;
  }
  const load = commands[first];
  if (!load) {
    console.error(`ferry: unknown command "${first}". Run "ferry --help" for the list of commands.`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (err) {
    if (err instanceof CliUsageError) {
      console.error(`ferry ${first}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
