/**
 * The agent's lifecycle on a host, over SSH: start (detached with setsid/nohup so it outlives the
 * SSH session, or as a systemd service when asked and available), wait for its ready line, stop,
 * status, log tail, uninstall. A pid is only ever signalled after checking that its command line is
 * a Ferry agent's. Uninstall removes the agent program, its pid file, log and unit, never the
 * agent's data (identity, journals) in its home.
 */
import { ReadyLine } from '../../agent/protocol/control.ts';
import { SshError } from '../ssh/errors.ts';
import type { SshSession } from '../ssh/session.ts';
import { shPath, shQuote } from '../ssh/shell.ts';
import { BUNDLE_PATH, checkVersionLabel, DEFAULT_AGENT_HOME, RUNTIME_PATH } from './agent-layout.ts';
import { AgentError } from './errors.ts';
import { FIND_RUNNING_AGENT, firstLine, mark, runScript, SECTION } from './remote-script.ts';
import { SYSTEMD_UNIT_NAME, SYSTEMD_UNIT_PATH, systemdUnit } from './systemd-unit.ts';
import { AGENT_NODE_FLAGS } from '../../agent/runtime-flags.ts';

export interface AgentStatus {
  /** Absolute agent home on the host. */
  home: string;
  installedVersions: string[];
  /** The version `agent/current` points to (the one last started). */
  currentVersion: string | null;
  running: boolean;
  pid: number | null;
  runningVersion: string | null;
  /** The running agent's ready line (ports, fingerprint), from its log. */
  ready: ReadyLine | null;
  systemd: { unitInstalled: boolean; active: boolean };
}

export interface StartOptions {
  version: string;
  home?: string;
  /** --data-listen HOST:PORT for the data plane (default: the agent's own). */
  dataListen?: string;
  /** Run as a systemd service when the host runs systemd and the user is root (else detached with nohup). */
  systemd?: boolean;
  /** Restart even when this version is already running. */
  restart?: boolean;
  /** How long to wait for the ready line (default 30 s). */
  readyTimeoutMs?: number;
}

export interface StartResult {
  ready: ReadyLine;
  pid: number;
  mode: 'nohup' | 'systemd';
  /** True when this version was running already and was left alone. */
  alreadyRunning: boolean;
  /** Why systemd was asked for but not used. */
  systemdUnavailable?: string;
  /** The version stopped to start this one (an upgrade), if any. */
  replacedVersion?: string;
}

function homeOf(options: { home?: string }): string {
  return options.home ?? DEFAULT_AGENT_HOME;
}

const STOP_RUNNING = `
if [ -n "$running_pid" ]; then
  kill -TERM "$running_pid" 2>/dev/null
  i=0
  while kill -0 "$running_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done
  kill -0 "$running_pid" 2>/dev/null && kill -KILL "$running_pid" 2>/dev/null
  echo "${SECTION}stopped $running_pid"
fi
`;

function parseReady(line: string): ReadyLine | null {
  if (!line) return null;
  try {
    const parsed = ReadyLine.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function agentStatus(session: SshSession, options: { home?: string } = {}): Promise<AgentStatus> {
  const out = await runScript(
    session,
    `home=${shPath(homeOf(options))}
${mark('home')}; (cd "$home" 2>/dev/null && pwd -P) || echo "$home"
${mark('versions')}; for d in "$home"/agent/*/; do [ -f "$d/MANIFEST" ] && [ ! -L "\${d%/}" ] && basename "$d"; done
${mark('current')}; readlink "$home/agent/current" 2>/dev/null
${FIND_RUNNING_AGENT}
${mark('pid')}; echo "$running_pid"
${mark('running')}; echo "$running_version"
${mark('ready')}; [ -n "$running_pid" ] && grep '"ready":true' "$home/agent.log" 2>/dev/null | tail -n 1
${mark('unit')}; [ -f ${SYSTEMD_UNIT_PATH} ] && echo installed
${mark('active')}; command -v systemctl >/dev/null 2>&1 && systemctl is-active ${SYSTEMD_UNIT_NAME} 2>/dev/null
${mark('end')}
`,
  );
  if (!out.sections.has('end')) throw new SshError('exec-failed', `Ferry could not read the agent's state on ${session.label} (${out.stderr.trim() || `exit ${out.code}`}).`);
  const pid = Number(firstLine(out.sections, 'pid')) || null;
  const ready = parseReady(firstLine(out.sections, 'ready'));
  return {
    home: firstLine(out.sections, 'home'),
    installedVersions: (out.sections.get('versions') ?? []).map((l) => l.trim()).filter(Boolean),
    currentVersion: firstLine(out.sections, 'current') || null,
    running: pid !== null,
    pid,
    runningVersion: firstLine(out.sections, 'running') || null,
    ready: pid !== null && ready?.pid === pid ? ready : null,
    systemd: { unitInstalled: firstLine(out.sections, 'unit') === 'installed', active: firstLine(out.sections, 'active') === 'active' },
  };
}

export async function startAgent(session: SshSession, options: StartOptions): Promise<StartResult> {
  checkVersionLabel(options.version);
  const status = await agentStatus(session, options);
  const home = status.home;
  if (!status.installedVersions.includes(options.version)) {
    throw new AgentError('agent-not-installed', `Agent ${options.version} is not installed on ${session.label} (installed: ${status.installedVersions.join(', ') || 'none'}). Deploy it first.`);
  }
  if (status.running && status.runningVersion === options.version && status.ready && !options.restart) {
    return { ready: status.ready, pid: status.ready.pid, mode: status.systemd.active ? 'systemd' : 'nohup', alreadyRunning: true };
  }
  const dir = `${home}/agent/${options.version}`;
  const node = `${dir}/${RUNTIME_PATH}`;
  const bundle = `${dir}/${BUNDLE_PATH}`;
  const log = `${home}/agent.log`;
  const args = ['serve', '--home', home, ...(options.dataListen ? ['--data-listen', options.dataListen] : [])];
  const waitTicks = Math.ceil((options.readyTimeoutMs ?? 30_000) / 100);
  const unit = systemdUnit({ node, bundle, args, home, log });

  const out = await runScript(
    session,
    `set -u
home=${shQuote(home)}
log=${shQuote(log)}
${FIND_RUNNING_AGENT}
${mark('replaced')}; echo "$running_version"
if [ -f ${SYSTEMD_UNIT_PATH} ] && command -v systemctl >/dev/null 2>&1; then systemctl stop ${SYSTEMD_UNIT_NAME} 2>/dev/null; fi
${STOP_RUNNING}
ln -sfn ${shQuote(options.version)} "$home/agent/current"
if [ -f "$log" ] && [ "$(wc -c < "$log")" -gt 10485760 ]; then mv -f "$log" "$log.1"; fi
offset=0; [ -f "$log" ] && offset=$(wc -c < "$log")
mode=nohup
if [ ${options.systemd ? 1 : 0} = 1 ]; then
  if [ ! -d /run/systemd/system ]; then ${mark('systemd-unavailable')}; echo 'the host does not run systemd'
  elif [ "$(id -u)" != 0 ]; then ${mark('systemd-unavailable')}; echo 'systemd services need root; the agent runs detached instead'
  else mode=systemd
  fi
fi
cd "$home" || exit 3
if [ $mode = systemd ]; then
  cat > ${SYSTEMD_UNIT_PATH}.tmp <<'FERRY_UNIT'
${unit.trimEnd()}
FERRY_UNIT
  mv -f ${SYSTEMD_UNIT_PATH}.tmp ${SYSTEMD_UNIT_PATH} && systemctl daemon-reload && systemctl enable ${SYSTEMD_UNIT_NAME} >/dev/null 2>&1
  systemctl restart ${SYSTEMD_UNIT_NAME} || exit 5
  started=''
else
  setsid nohup ${[node, ...AGENT_NODE_FLAGS, bundle, ...args].map(shQuote).join(' ')} >> "$log" 2>&1 < /dev/null &
  started=$!
fi
${mark('mode')}; echo $mode
i=0
while :; do
  line=$(tail -c +$((offset + 1)) "$log" 2>/dev/null | grep -m1 '"ready":true')
  if [ -n "$line" ]; then
    ${mark('ready')}; echo "$line"
    exit 0
  fi
  if [ -n "$started" ] && ! kill -0 "$started" 2>/dev/null; then ${mark('exited')}; tail -c +$((offset + 1)) "$log" | tail -n 30; exit 0; fi
  if [ $mode = systemd ] && systemctl is-failed --quiet ${SYSTEMD_UNIT_NAME}; then ${mark('exited')}; tail -c +$((offset + 1)) "$log" | tail -n 30; exit 0; fi
  i=$((i + 1))
  if [ $i -ge ${waitTicks} ]; then ${mark('timeout')}; tail -c +$((offset + 1)) "$log" | tail -n 30; exit 0; fi
  sleep 0.1 2>/dev/null || sleep 1
done
`,
    (options.readyTimeoutMs ?? 30_000) + 30_000,
  );
  const tail = (name: string): string => (out.sections.get(name) ?? []).join('\n').trim();
  if (out.sections.has('exited')) {
    throw new AgentError('agent-start-failed', `The agent on ${session.label} exited right after starting. Its log says:\n${tail('exited') || '(nothing)'}\nFix the cause (see ${log}) and start it again.`, tail('exited'));
  }
  if (out.sections.has('timeout')) {
    throw new AgentError('agent-start-timeout', `The agent on ${session.label} did not report ready within ${Math.round((options.readyTimeoutMs ?? 30_000) / 1000)} s. Check ${log} on the host.`, tail('timeout'));
  }
  const readyText = firstLine(out.sections, 'ready');
  const ready = parseReady(readyText);
  if (out.code !== 0 || !ready) {
    throw new AgentError('agent-start-failed', `The agent on ${session.label} did not start properly (${readyText ? `unexpected ready line: ${readyText}` : out.stderr.trim() || `exit ${out.code}`}). Check ${log} on the host.`);
  }
  // The pid file always names the agent process itself (as it reports), for stop and status.
  await session.exec(`echo ${ready.pid} > ${shQuote(`${home}/agent.pid.tmp`)} && mv -f ${shQuote(`${home}/agent.pid.tmp`)} ${shQuote(`${home}/agent.pid`)}`);
  const result: StartResult = { ready, pid: ready.pid, mode: firstLine(out.sections, 'mode') === 'systemd' ? 'systemd' : 'nohup', alreadyRunning: false };
  const unavailable = firstLine(out.sections, 'systemd-unavailable');
  if (unavailable) result.systemdUnavailable = unavailable;
  const replaced = firstLine(out.sections, 'replaced');
  if (replaced) result.replacedVersion = replaced;
  return result;
}

export async function stopAgent(session: SshSession, options: { home?: string } = {}): Promise<{ stopped: boolean; pid: number | null }> {
  const out = await runScript(
    session,
    `home=${shPath(homeOf(options))}
if [ -f ${SYSTEMD_UNIT_PATH} ] && command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet ${SYSTEMD_UNIT_NAME}; then
  systemctl stop ${SYSTEMD_UNIT_NAME} && ${mark('stopped systemd')}
fi
${FIND_RUNNING_AGENT}
${STOP_RUNNING}
rm -f "$home/agent.pid"
${mark('end')}
`,
  );
  if (!out.sections.has('end')) throw new AgentError('agent-stop-failed', `Ferry could not stop the agent on ${session.label} (${out.stderr.trim() || `exit ${out.code}`}).`);
  const stopped = [...out.sections.keys()].find((k) => k.startsWith('stopped '));
  const pid = stopped ? Number(stopped.slice('stopped '.length)) || null : null;
  return { stopped: stopped !== undefined, pid };
}

export async function agentLogTail(session: SshSession, lines: number, options: { home?: string } = {}): Promise<string> {
  const n = Math.max(1, Math.min(100_000, Math.floor(lines)));
  const result = await session.exec(`tail -n ${n} ${shPath(`${homeOf(options)}/agent.log`)} 2>/dev/null; true`);
  return result.stdout.toString('utf8');
}

/** Stops the agent and removes its program, unit, pid file and logs; the rest of its home stays. */
export async function uninstallAgent(session: SshSession, options: { home?: string } = {}): Promise<{ removed: string[] }> {
  await stopAgent(session, options);
  const out = await runScript(
    session,
    `home=${shPath(homeOf(options))}
if [ -f ${SYSTEMD_UNIT_PATH} ]; then
  command -v systemctl >/dev/null 2>&1 && systemctl disable ${SYSTEMD_UNIT_NAME} >/dev/null 2>&1
  rm -f ${SYSTEMD_UNIT_PATH} && echo ${SYSTEMD_UNIT_PATH}
  command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload
fi
for f in "$home/agent" "$home/agent.pid" "$home/agent.log" "$home/agent.log.1"; do
  if [ -e "$f" ] || [ -L "$f" ]; then rm -rf "$f" && echo "$f"; fi
done
exit 0
`,
  );
  return { removed: out.stdout.split('\n').filter(Boolean) };
}
