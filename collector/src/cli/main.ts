#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { LlmwatchError } from '../errors.js';
import { register as registerDemo } from './commands/demo.js';
import { register as registerDetect } from './commands/detect.js';
import { register as registerPii } from './commands/pii.js';
import { register as registerReport } from './commands/report.js';
import { register as registerStart } from './commands/start.js';

/** `llmwatch`: exit 0 ok, 1 runtime failure, 2 usage/config error, each with a one-line reason. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('llmwatch')
    .description('Monitoring for LLM applications in production')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of [registerStart, registerDetect, registerPii, registerReport, registerDemo])
    register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
      )
        return 0;
      return 2;
    }
    if (error instanceof LlmwatchError) {
      process.stderr.write(`llmwatch: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`llmwatch: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const exitCode = await main(process.argv.slice(2));
// Long-running commands (start) resolve only when they have shut down; others end here.
process.exitCode = exitCode;
