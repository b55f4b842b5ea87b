/**
 * `ferry plan check FILE`: validates a plan file and prints every problem with its line, so the
 * operator can fix them all in one pass. Exit 0 when the plan is consistent, 1 when it is not.
 * With --hosts, the live checks on the hosts follow (plan-hosts.ts); offline is the default.
 */
import { formatProblem, readPlanFile } from '../plan/plan-file.ts';
import { CliUsageError, parseCliArgs } from './args.ts';
import { parseAcceptedKeys } from './ssh-auth.ts';

const USAGE = `Usage: ferry plan check FILE [--hosts] [--json]

  Checks a plan file: YAML syntax, every field, and the references between hosts, tunnels,
  data addresses and tasks.

  --hosts                          also check on the hosts over SSH: each data address's directory
                                   exists on every host of its tunnel, is a mount (NFS options), is
                                   readable (sources) or writable (destinations), is the same mount
                                   on every host; and each host's cores, memory and free disk
  --accept-host-key NAME=SHA256:…  trust this host key of host NAME (repeatable); remembered
  --data-dir DIR                   Ferry's data directory (its known_hosts)`;

export async function runPlanCli(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(USAGE);
    return 0;
  }
  if (sub !== 'check') throw new CliUsageError(`unknown subcommand "${sub}".\n${USAGE}`);
  const { values, positionals } = parseCliArgs(
    rest,
    { json: { type: 'boolean' }, hosts: { type: 'boolean' }, 'accept-host-key': { type: 'string', multiple: true }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    true,
    USAGE,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new CliUsageError(`name exactly one plan file.\n${USAGE}`);
  const result = await readPlanFile(file);
  if (values.hosts && result.ok) {
    const accepted = parseAcceptedKeys(values['accept-host-key']);
    const { runLiveChecks } = await import('./plan-hosts.ts');
    return runLiveChecks(file, result.plan, { json: values.json ?? false, acceptFingerprints: accepted, dataDir: values['data-dir'] ?? null });
  }
  if (values.json) {
    console.log(JSON.stringify(result.ok ? { ok: true, summary: summarize(result.plan) } : { ok: false, problems: result.problems }));
    return result.ok ? 0 : 1;
  }
  if (!result.ok) {
    for (const problem of result.problems) console.error(formatProblem(file, problem));
    console.error(`${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${file}.`);
    return 1;
  }
  const s = summarize(result.plan);
  console.log(`${file}: OK: ${count(s.hosts, 'host')}, ${count(s.tunnels, 'tunnel')}, ${count(s.addresses, 'data address', 'data addresses')}, ${count(s.tasks, 'task')}.`);
  return 0;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function summarize(plan: { hosts: unknown[]; tunnels: unknown[]; addresses: unknown[]; tasks: unknown[] }) {
  return { hosts: plan.hosts.length, tunnels: plan.tunnels.length, addresses: plan.addresses.length, tasks: plan.tasks.length };
}
