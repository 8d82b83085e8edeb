import { createHmac } from 'node:crypto';
import type { Detection } from '../detect/types.js';
import { describeSubject } from '../detect/types.js';
import type { AlertsConfig, NotifierConfig } from './config.js';

import { noLog, type Log } from '../logging.js';

export { noLog, type Log };

/** One delivery attempt: resolves when the receiver accepted it (2xx), throws otherwise. */
export interface Notifier {
  name: string;
  send(detection: Detection, signal: AbortSignal): Promise<void>;
}

export const SIGNATURE_HEADER = 'x-llmwatch-signature';

/** `sha256=<hex>` HMAC of the exact body bytes, GitHub-style, so receivers can verify origin. */
export function sign(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
    signal,
  });
  // Drain the body so the socket can be reused.
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}

export function webhookNotifier(cfg: Extract<NotifierConfig, { type: 'webhook' }>): Notifier {
  return {
    name: `webhook ${new URL(cfg.url).host}`,
    async send(detection, signal) {
      const body = JSON.stringify(detection);
      const headers: Record<string, string> = {
        'user-agent': 'llmwatch',
        'x-llmwatch-event': detection.status,
        'x-llmwatch-delivery': `${detection.id}-${detection.status}`,
        ...cfg.headers,
      };
      if (cfg.secret) headers[SIGNATURE_HEADER] = sign(body, cfg.secret);
      await post(cfg.url, body, headers, signal);
    },
  };
}

const EMOJI = {
  critical: ':red_circle:',
  warning: ':large_orange_circle:',
  info: ':large_blue_circle:',
} as const;

/** A readable Slack message: headline, what/where, the numbers, and the window. */
export function slackMessage(d: Detection): { text: string; blocks: unknown[] } {
  const resolved = d.status === 'resolved';
  const title = `${resolved ? ':white_check_mark: Resolved' : `${EMOJI[d.severity]} ${d.severity.toUpperCase()}`}: ${d.kind.replaceAll('_', ' ')} — ${describeSubject(d.subject)}`;
  const fields = [
    `*Project*\n${d.project}`,
    `*Rule*\n\`${d.rule}\``,
    `*Observed*\n${d.observed}`,
    `*Baseline*\n${d.baseline}`,
  ];
  return {
    text: `${title}\n${d.message}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title.replace(/:[a-z_]+: /g, '').slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: d.message.slice(0, 2900) } },
      { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `Window ${d.window.from} → ${d.window.to} · id ${d.id}` }],
      },
    ],
  };
}

export function slackNotifier(cfg: Extract<NotifierConfig, { type: 'slack' }>): Notifier {
  return {
    name: 'slack',
    async send(detection, signal) {
      await post(cfg.url, JSON.stringify(slackMessage(detection)), {}, signal);
    },
  };
}

export function createNotifiers(cfg: AlertsConfig): Notifier[] {
  return cfg.notifiers.map((n) => (n.type === 'webhook' ? webhookNotifier(n) : slackNotifier(n)));
}

export interface DeliveryStats {
  delivered: number;
  failed: number;
  retries: number;
}

/**
 * Sends notifications in the background with retries and exponential backoff, so a slow or
 * failing receiver never holds up a detection pass. `flush()` waits for what is in flight
 * (shutdown, CLI backtests, tests).
 */
export class Dispatcher {
  readonly stats: DeliveryStats = { delivered: 0, failed: 0, retries: 0 };
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly notifiers: readonly Notifier[],
    private readonly delivery: AlertsConfig['delivery'],
    private readonly log: Log = noLog,
  ) {}

  get size(): number {
    return this.notifiers.length;
  }

  enqueue(detection: Detection): void {
    if (this.closed) return;
    for (const notifier of this.notifiers) {
      const p = this.deliver(notifier, detection).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  async flush(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async deliver(notifier: Notifier, detection: Detection): Promise<void> {
    const { attempts, initialBackoffMs, maxBackoffMs, timeoutMs } = this.delivery;
    for (let attempt = 1; ; attempt++) {
      try {
        await notifier.send(detection, AbortSignal.timeout(timeoutMs));
        this.stats.delivered++;
        return;
      } catch (error) {
        if (attempt >= attempts) {
          this.stats.failed++;
          this.log.error(
            { notifier: notifier.name, rule: detection.rule, attempts, err: (error as Error).message },
            'alert notification failed',
          );
          return;
        }
        this.stats.retries++;
        const backoff = Math.min(maxBackoffMs, initialBackoffMs * 2 ** (attempt - 1));
        // Equal jitter (half the backoff fixed, half random): many alerts never retry in lockstep
        // against a recovering receiver, and none retries sooner than half its backoff.
        await new Promise<void>((r) => setTimeout(r, backoff / 2 + Math.random() * (backoff / 2)));
      }
    }
  }
}
