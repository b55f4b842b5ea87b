/**
 * Owns the agent's home directory identity: DIR/agent.json ({ agentId, token }) created on first
 * start with mode 0600, and the TLS identity next to it. The token authenticates control clients;
 * whoever can read agent.json can drive the agent, so it never leaves the host except through the
 * operator's SSH session.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { loadOrCreateIdentity } from '../net/tls.ts';
import type { TlsIdentity } from '../net/tls.ts';

const AgentFile = z.object({ agentId: z.string().min(1), token: z.string().min(16) });
export type AgentFile = z.infer<typeof AgentFile>;

export interface AgentIdentity extends AgentFile {
  home: string;
  tls: TlsIdentity;
}

export function loadOrCreateAgentIdentity(home: string): AgentIdentity {
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const file = path.join(home, 'agent.json');
  let data: AgentFile;
  if (fs.existsSync(file)) {
    const parsed = AgentFile.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file} is not a valid agent identity file; move it away to create a new identity.`);
    data = parsed.data;
  } else {
    data = { agentId: `agent-${randomBytes(6).toString('hex')}`, token: randomBytes(24).toString('hex') };
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(data)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  return { ...data, home, tls: loadOrCreateIdentity(home) };
}
