import type { Request, RequestHandler, Response } from 'express';
import { LlmwatchError } from '../errors.js';
import type { IngestLimits } from '../ingest/limits.js';
import { projectOf } from './deps.js';
import type { CollectorMetrics } from './metrics.js';

/**
 * Admission for the OTLP routes (/v1/*, every signal):
 *
 * - Per-project concurrency (ingestAdmission, after authentication): a project with
 *   `maxConcurrentRequestsPerProject` exports in flight (reading, decoding or spooling) gets 429
 *   before its next body is read. Without it, 16 uploads that send one chunk and stall, under any
 *   one key, held every slot of the global limit and every project's exports got 429 until
 *   Node's 300 s request timeout.
 * - Refusals the sender can read (discardRefusedBodies, before authentication): a 401/413/429/503
 *   is often written while the sender is still writing its body. Closing then resets the socket
 *   with unread data in it, and node:http clients (the OTLP exporters) report EPIPE/ECONNRESET
 *   instead of the answer, which they retry. The rest of the body is read and discarded, up to
 *   `maxDiscardBytes` (or `bodyTimeoutMs` without data); a 408 (stalled upload) closes at once,
 *   there is nothing to wait for.
 */
export function ingestAdmission(limits: IngestLimits, metrics: CollectorMetrics): RequestHandler {
  const inFlight = new Map<string, number>();
  return (_req, res, next) => {
    const project = projectOf(res);
    const current = inFlight.get(project) ?? 0;
    if (current >= limits.maxConcurrentRequestsPerProject) {
      metrics.requestsRefused.inc({ reason: 'project_concurrency' });
      throw new LlmwatchError(
        'overloaded',
        `more than ${limits.maxConcurrentRequestsPerProject} exports of this project in flight; retry later`,
        { retryAfterSeconds: 1 },
      );
    }
    inFlight.set(project, current + 1);
    // 'close' follows 'finish', or comes alone when the sender goes away first.
    res.once('close', () => {
      const left = (inFlight.get(project) ?? 1) - 1;
      if (left > 0) inFlight.set(project, left);
      else inFlight.delete(project);
    });
    next();
  };
}

/** Mounted before authentication, so a 401 reads (and bounds) the rest of the body too. */
export function discardRefusedBodies(limits: IngestLimits): RequestHandler {
  return (req, res, next) => {
    res.once('finish', () => discardUnreadBody(req, res, limits));
    next();
  };
}

function discardUnreadBody(req: Request, res: Response, limits: IngestLimits): void {
  if (req.complete || req.destroyed) return;
  if (res.statusCode === 408 || limits.maxDiscardBytes === 0) {
    req.socket.destroy();
    return;
  }
  let discarded = 0;
  // An idle deadline: a sender still sending is bounded by maxDiscardBytes, a stalled one by this.
  const timer = setTimeout(() => req.socket.destroy(), limits.bodyTimeoutMs);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > limits.maxDiscardBytes) req.socket.destroy();
    else timer.refresh();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}
