import type { Command } from 'commander';
import { LlmwatchError } from '../../errors.js';

// Placeholder until the owning change lands; replaced wholesale by it.
export function register(program: Command): void {
  program
    .command('pii')
    .description('(not available yet)')
    .allowUnknownOption()
    .action(() => {
      throw new LlmwatchError('internal', 'pii is not available in this build yet');
    });
}
