/**
 * V8 flags every launcher passes to Ferry's Node runtime before the agent bundle (local agents,
 * nohup and systemd on hosts). Contract: the same flags everywhere, so a figure measured with
 * `npm run bench` is what a host sees.
 *
 * Why: an agent allocates short-lived buffers and records at a high rate while its live heap stays
 * small (about 20 MB on a 250,000-entry directory). With V8's default young generation (up to 3 x
 * 16 MB semi-spaces here) the committed heap grew to 150-180 MB and the coordinator's RSS past 300 MB;
 * 8 MB semi-spaces keep every agent under about 200 MB at a small cost in scavenges.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
