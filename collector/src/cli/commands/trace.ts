import type { Command } from 'commander';
import { callCollector } from '../../api/client.js';
import { LlmwatchError } from '../../errors.js';
import { diagnoseOptions } from '../../rag/config.js';
import { diagnoseTrace, type TraceDiagnosis } from '../../rag/diagnose.js';
import { formatUsd } from '../../report/render.js';
import { migrate } from '../../storage/migrations/index.js';
import { configAndProject, fromStoredData, withDataSourceOptions } from '../data-source.js';
import { pct, type CommonFlags } from './rag.js';

/** `llmwatch trace <id>`: one trace's steps and RAG verdict (docs/rag.md). */

export function renderDiagnosis(d: TraceDiagnosis): string {
  const lines = [
    `trace ${d.traceId}  pipeline ${d.pipeline}  service ${d.service || '-'}`,
    `${d.startTime}  ${d.durationMs.toFixed(0)} ms  ${formatUsd(d.costUsd)}  ${d.errors} error(s)`,
    '',
    `${'step'.padEnd(44)} ${'kind'.padEnd(10)} ${'ms'.padStart(8)} ${'critical'.padStart(9)} ${'cost'.padStart(10)}`,
  ];
  for (const s of d.steps) {
    const name = `${'  '.repeat(s.depth)}${s.name}${s.error ? ' ✗' : ''}`.slice(0, 44);
    const scores = s.scores.map((x) => `${x.name}=${x.value}`).join(' ');
    const extra = [s.model, s.documents !== undefined ? `${s.documents} docs` : '', scores]
      .filter(Boolean)
      .join('  ');
    lines.push(
      `${name.padEnd(44)} ${s.kind.padEnd(10)} ${s.durationMs.toFixed(0).padStart(8)} ${pct(s.criticalShare).padStart(9)} ${(s.costUsd ? formatUsd(s.costUsd) : '-').padStart(10)}${extra ? `  ${extra}` : ''}`,
    );
  }
  if (d.rag) {
    lines.push('', `verdict: ${d.rag.verdict} — ${d.rag.evidence.reason}`);
    lines.push(`question: ${d.rag.question.slice(0, 200)}`);
    lines.push(
      `retrieved ${d.rag.evidence.documents} document(s); best covers ${pct(d.rag.evidence.maxRelevance)} of the question's terms` +
        (d.rag.evidence.groundedness !== undefined
          ? `; answer grounded ${pct(d.rag.evidence.groundedness)}`
          : ''),
    );
    for (const doc of d.rag.evidence.coveredElsewhere ?? [])
      lines.push(
        `  covered elsewhere by ${doc.id} (${pct(doc.relevance)})${doc.traceId ? ` in trace ${doc.traceId}` : ''}`,
      );
  } else lines.push('', 'no RAG verdict: the trace has no retrieval step followed by an LLM call');
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  withDataSourceOptions(
    program
      .command('trace')
      .description(
        "A trace's steps (kind, critical-path and cost shares, errors, scores) and its RAG verdict",
      )
      .argument('<traceId>', '32 hex characters')
      .option('--json', 'print JSON'),
  ).action(async (traceId: string, flags: CommonFlags) => {
    if (!/^[0-9a-f]{32}$/.test(traceId))
      throw new LlmwatchError('usage', `trace id: 32 lower-case hex characters, not ${traceId}`);
    const { config, project } = configAndProject(flags);
    const diagnosis = await fromStoredData(flags, config, {
      remote: (url, apiKey) =>
        callCollector<TraceDiagnosis>(url, `/api/traces/${traceId}/diagnosis`, { apiKey, timeoutMs: 60_000 }),
      local: async (client) => {
        await migrate(client, { retention: config.storage.retentionDays });
        const d = await diagnoseTrace(client, project, traceId, diagnoseOptions(config.detection.rag));
        if (!d) throw new LlmwatchError('not_found', `no trace ${traceId} in project ${project}`);
        return d;
      },
    });
    process.stdout.write(flags.json ? `${JSON.stringify(diagnosis, null, 2)}\n` : renderDiagnosis(diagnosis));
  });
}
