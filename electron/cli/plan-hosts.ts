/**
 * `ferry plan check FILE --hosts`: the live checks of a consistent plan on its hosts over SSH
 * (electron/remote/live-check.ts), printed one finding per line, errors first, each naming the
 * host, the directory and what to do; or, with --json, one JSON document. Exit 0 when there is no
 * error (warnings allowed), 1 otherwise. Owns formatting only.
 */
import path from 'node:path';
import type { Plan } from '../contract/plan.ts';
import { defaultDataDir } from '../controller/data-dir.ts';
import { checkPlanOnHosts, type LiveFinding } from '../remote/live-check.ts';
import { cliAuthProvider } from './ssh-auth.ts';

export interface LiveCheckCliOptions {
  json: boolean;
  acceptFingerprints: Record<string, string>;
  dataDir: string | null;
}

function line(f: LiveFinding): string {
  const where = f.directory ? `${f.host} ${f.directory}${f.address ? ` (data address "${f.address}")` : ''}` : f.host;
  return `${f.severity === 'error' ? 'ERROR' : 'warning'} [${f.code}] ${where}: ${f.message}`;
}

export async function runLiveChecks(file: string, plan: Plan, options: LiveCheckCliOptions): Promise<number> {
  const result = await checkPlanOnHosts(plan, {
    auth: cliAuthProvider(),
    hostKeys: { dataDir: path.resolve(options.dataDir ?? defaultDataDir()) },
    acceptFingerprints: options.acceptFingerprints,
  });
  const errors = result.findings.filter((f) => f.severity === 'error');
  const warnings = result.findings.filter((f) => f.severity === 'warning');
  if (options.json) {
    console.log(JSON.stringify({ ok: result.ok, file, findings: result.findings, hosts: Object.keys(result.facts) }));
    return result.ok ? 0 : 1;
  }
  const reached = Object.keys(result.facts);
  console.log(`${file}: plan OK; live checks on ${reached.length} host${reached.length === 1 ? '' : 's'}${reached.length ? ` (${reached.join(', ')})` : ''}.`);
  for (const f of [...errors, ...warnings]) (f.severity === 'error' ? console.error : console.log)(line(f));
  const summary = `${errors.length} error${errors.length === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}.`;
  if (result.ok) console.log(`Live checks passed: ${summary}`);
  else console.error(`Live checks found problems: ${summary} Fix the errors and run "ferry plan check ${file} --hosts" again.`);
  return result.ok ? 0 : 1;
}
