#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { LlmwatchError } from '../errors.js';

type CommandModule = { register(program: Command): void };

/**
 * Command modules are loaded on demand: `pii scan` in a shell pipeline should not pay for the
 * embedded ClickHouse engine, the OTLP decoders and the LLM clients that other commands import.
 * Help (or an unknown command) loads them all so the listing stays complete.
 */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  start: () => import('./commands/start.js'),
  detect: () => import('./commands/detect.js'),
  pii: () => import('./commands/pii.js'),
  report: () => import('./commands/report.js'),
  demo: () => import('./commands/demo.js').catch(demoNotShipped),
  eval: () => import('./commands/eval.js'),
  compare: () => import('./commands/compare.js'),
  dataset: () => import('./commands/dataset.js'),
  finetune: () => import('./commands/finetune.js'),
  trace: () => import('./commands/trace.js'),
  rag: () => import('./commands/rag.js'),
};

/**
 * The demo drives the official LLM clients against fake providers: it runs from the source
 * workspace (`pnpm llmwatch demo`), and the npm package ships neither it nor those clients.
 */
function demoNotShipped(error: unknown): CommandModule {
  if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
  return {
    register(program) {
      program
        .command('demo')
        .description('(source workspace only) realistic LLM traffic with injected incidents')
        .allowUnknownOption()
        .action(() => {
          throw new LlmwatchError(
            'usage',
            'llmwatch demo runs from the source repository (pnpm install && pnpm llmwatch demo); the npm package does not ship it',
          );
        });
    },
  };
}

/** The collector package's version (src/cli and dist/cli are both two levels below package.json). */
function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** `llmwatch`: exit 0 ok, 1 runtime failure, 2 usage/config error, each with a one-line reason. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('llmwatch')
    .description('Monitoring for LLM applications in production')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const name = argv.find((arg) => !arg.startsWith('-'));
  const load = name !== undefined ? COMMANDS[name] : undefined;
  for (const loader of load ? [load] : Object.values(COMMANDS)) (await loader()).register(program);
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
