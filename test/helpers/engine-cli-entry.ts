// Entry point the engine tests bundle into a standalone CLI (the lead's electron/cli/ferry.ts will
// dispatch `migrate` and `scan` the same way): ferry-engine.mjs migrate|scan ...
import { CliUsageError } from '../../electron/cli/args.ts';
import { runMigrateCli } from '../../electron/cli/migrate.ts';
import { runScanCli } from '../../electron/cli/scan.ts';

const [command, ...rest] = process.argv.slice(2);
const run = command === 'migrate' ? runMigrateCli : command === 'scan' ? runScanCli : null;
if (!run) {
  console.error('usage: ferry-engine.mjs migrate|scan ...');
  process.exit(2);
}
run(rest).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof CliUsageError) {
      console.error(`ferry ${command}: ${err.message}`);
      process.exit(2);
    }
    console.error(`ferry ${command}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
