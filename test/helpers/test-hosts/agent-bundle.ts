/**
 * The agent bundle deployment tests use: the real dist/agent/agent.mjs when it exists (or when
 * FERRY_REAL_AGENT=1, which then requires it), else the stand-in (stand-in-agent.mjs) with the version
 * baked in. FERRY_REAL_AGENT=0 forces the stand-in.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../../..');
export const REAL_AGENT_BUNDLE = path.join(ROOT, 'dist/agent/agent.mjs');
export const RUNTIME_X64 = path.join(ROOT, 'dist/runtime/linux-x64/bin/node');

export function useRealAgent(): boolean {
  const flag = process.env.FERRY_REAL_AGENT;
  if (flag === '1') {
    if (!existsSync(REAL_AGENT_BUNDLE)) throw new Error(`FERRY_REAL_AGENT=1 but ${REAL_AGENT_BUNDLE} does not exist; run node build/build.mjs --skip-renderer`);
    return true;
  }
  return flag !== '0' && existsSync(REAL_AGENT_BUNDLE);
}

/** Writes the stand-in agent for `version` into `dir` and returns its path. */
export async function writeStandInAgent(dir: string, version: string): Promise<string> {
  const template = await fs.readFile(path.join(HERE, 'stand-in-agent.mjs'), 'utf8');
  const file = path.join(dir, `stand-in-agent-${version}.mjs`);
  await fs.writeFile(file, template.replace('__STAND_IN_VERSION__', version));
  return file;
}

/** The bundle to deploy as `version`: the real agent (same file for every version) or a stand-in. */
export async function agentBundleFor(dir: string, version: string): Promise<string> {
  return useRealAgent() ? REAL_AGENT_BUNDLE : writeStandInAgent(dir, version);
}

/** A bundle that fails at once with a message on stderr (for start-failure tests, with any agent). */
export async function writeBrokenAgent(dir: string): Promise<string> {
  const file = path.join(dir, 'broken-agent.mjs');
  await fs.writeFile(file, "console.error('broken agent: cannot open the journal (test)');\nprocess.exit(4);\n");
  return file;
}
