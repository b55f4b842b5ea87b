/**
 * A dist/ directory for the controller to deploy from, with the agent bundle built from the
 * current sources (buildEngine), the Node 24 runtime and the native addon of the repository's
 * build (symlinked): what `Controller.open({distDir})` and runs.start deploy to lab hosts.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { buildEngine } from './engine-build.ts';
import { REPO_ROOT } from './make-tree.ts';

export async function makeAgentDist(dir: string): Promise<string> {
  const engine = await buildEngine();
  await fs.mkdir(path.join(dir, 'agent'), { recursive: true });
  await fs.copyFile(engine.agentBundle, path.join(dir, 'agent', 'agent.mjs'));
  await fs.mkdir(path.join(dir, 'runtime', 'linux-x64', 'bin'), { recursive: true });
  await fs.symlink(engine.node24, path.join(dir, 'runtime', 'linux-x64', 'bin', 'node'));
  await fs.mkdir(path.join(dir, 'native', 'linux-x64'), { recursive: true });
  await fs.symlink(path.join(REPO_ROOT, 'dist', 'native', 'linux-x64', 'ferry_fs.node'), path.join(dir, 'native', 'linux-x64', 'ferry_fs.node'));
  return dir;
}
