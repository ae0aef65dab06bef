#!/usr/bin/env node
// gradleak command line. Bad input: one line on stderr, exit 2, never a stack trace.
import { Command, CommanderError } from 'commander';
import { UserError } from '../util/errors.js';
import { GRADLEAK_VERSION } from '../util/version.js';
import { attackCommand } from './attack-command.js';
import { verifyCommand } from './verify-command.js';
import { benchCommand } from './bench-command.js';
import { demoCommand } from './demo-command.js';
import { simulateCommand } from './simulate-command.js';
import { reproduceCommand } from './reproduce-command.js';
import { datasetsCommand } from './datasets-command.js';
import { sweepCommand } from './sweep-command.js';
import { auditCommand } from './audit-command.js';
import { workerCommand } from './worker-command.js';
import { messageCommand } from './message-command.js';
import { trainLmCommand } from './train-lm-command.js';
import { dpEpsilonCommand } from './dp-epsilon-command.js';
import { inspectModelCommand } from './inspect-model-command.js';
import { maliciousModelCommand } from './malicious-model-command.js';
import { maliciousTableCommand } from './malicious-table-command.js';
import { cliMessage } from './flags.js';

const program = new Command('gradleak')
  .description('How much private training data leaks from federated-learning messages: gradient-inversion attacks')
  .version(GRADLEAK_VERSION)
  .showHelpAfterError(false)
  .exitOverride()
  .configureOutput({ writeErr: () => {} }); // errors are printed once, below

for (const cmd of [attackCommand(), reproduceCommand(), verifyCommand(), benchCommand(), demoCommand(), simulateCommand(), datasetsCommand(), sweepCommand(), auditCommand(), workerCommand(), messageCommand(), trainLmCommand(), dpEpsilonCommand(), inspectModelCommand(), maliciousModelCommand(), maliciousTableCommand()]) {
  program.addCommand(cmd.exitOverride().configureOutput({ writeErr: () => {} }));
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    if (e.exitCode === 0) process.exit(0); // --help, --version
    console.error(`gradleak: ${e.message.replace(/^error: /, '').split('\n')[0]}`);
    process.exit(2);
  }
  if (e instanceof UserError) {
    console.error(`gradleak: ${cliMessage(e).replace(/\s*\n\s*/g, ' ')}`); // one line, whatever a parser's message holds
    process.exit(2);
  }
  console.error(`gradleak: internal error: ${(e as Error)?.message ?? e} (please report; rerun with GRADLEAK_DEBUG=1 for details)`);
  if (process.env.GRADLEAK_DEBUG) console.error(e);
  process.exit(3);
}
