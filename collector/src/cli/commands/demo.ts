import type { Command } from 'commander';
import { LlmwatchError } from '../../errors.js';

// Placeholder until the owning change lands; replaced wholesale by it.
export function register(program: Command): void {
  program
    .command('demo')
    .description('(not available yet)')
    .allowUnknownOption()
    .action(() => {
      throw new LlmwatchError('internal', 'demo is not available in this build yet');
    });
}
