/**
 * The systemd unit Ferry installs for an agent when the operator asks for one and the host runs
 * systemd (as root only): restarts the agent on failure and at boot, appends its output to the
 * same log file the nohup mode uses. Pure: text out.
 */
import { AGENT_NODE_FLAGS } from '../../agent/runtime-flags.ts';

export const SYSTEMD_UNIT_NAME = 'ferry-agent.service';
export const SYSTEMD_UNIT_PATH = `/etc/systemd/system/${SYSTEMD_UNIT_NAME}`;

/** systemd quoting for one ExecStart argument. */
function systemdArg(value: string): string {
  if (/^[A-Za-z0-9_./:=@+-]+$/.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

export function systemdUnit(options: { node: string; bundle: string; args: string[]; home: string; log: string }): string {
  const exec = [options.node, ...AGENT_NODE_FLAGS, options.bundle, ...options.args].map(systemdArg).join(' ');
  return `[Unit]
Description=Ferry migration agent
After=network-online.target remote-fs.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${exec}
WorkingDirectory=${systemdArg(options.home)}
StandardOutput=append:${options.log}
StandardError=append:${options.log}
Restart=on-failure
RestartSec=5
KillMode=mixed
TimeoutStopSec=30
LimitNOFILE=1048576

[Install]
WantedBy=multi-user.target
`;
}
