import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { LlmwatchConfig } from '../config/index.js';
import { LlmwatchError } from '../errors.js';

/** The project served when no keys are configured (loopback only). */
export const DEFAULT_PROJECT = 'default';

/**
 * API keys → projects. Keys are held only as SHA-256 digests (config may give them plain or as
 * `sha256:<hex>`) and a presented key is compared against every digest in constant time, so
 * neither the key material nor the match position leaks through memory dumps or timing.
 */
export class KeyRing {
  private readonly entries: { digest: Buffer; projectId: string }[] = [];

  constructor(projects: LlmwatchConfig['projects']) {
    for (const [pi, project] of projects.entries()) {
      for (const [ki, key] of project.keys.entries()) {
        let digest: Buffer;
        if (key.startsWith('sha256:')) {
          const hex = key.slice('sha256:'.length);
          if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
            throw new LlmwatchError(
              'config',
              `projects.${pi}.keys.${ki}: sha256: must be followed by 64 hex characters`,
            );
          }
          digest = Buffer.from(hex, 'hex');
        } else {
          digest = sha256(key);
        }
        if (this.entries.some((e) => e.digest.equals(digest))) {
          throw new LlmwatchError('config', `projects.${pi}.keys.${ki}: the same key is configured twice`);
        }
        this.entries.push({ digest, projectId: project.id });
      }
    }
  }

  /** True when no keys are configured: one `default` project, no authentication. */
  get open(): boolean {
    return this.entries.length === 0;
  }

  /** The project of a presented key, or undefined. Always walks every entry. */
  lookup(key: string): string | undefined {
    const digest = sha256(key);
    let found: string | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, digest) && found === undefined) found = entry.projectId;
    }
    return found;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Sets `res.locals.projectId` from `Authorization: Bearer <key>` (read it with projectOf(res)). */
export function authMiddleware(keys: KeyRing): RequestHandler {
  return (req, res, next) => {
    if (keys.open) {
      res.locals.projectId = DEFAULT_PROJECT;
      next();
      return;
    }
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new LlmwatchError('unauthorized', 'missing Authorization: Bearer <project key>');
    const projectId = keys.lookup(match[1]);
    if (!projectId) throw new LlmwatchError('unauthorized', 'unknown API key');
    res.locals.projectId = projectId;
    next();
  };
}

/** The key of `Authorization: Bearer <key>`, or undefined. */
function bearerKey(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/**
 * GET /metrics: open in open mode (loopback only, like everything else); with project keys it
 * needs a project key or `server.metrics.key`. Metric names and enum labels reveal no content,
 * but queue depth and request rates are still the operator's business.
 */
export function metricsAccess(metrics: LlmwatchConfig['server']['metrics'], keys: KeyRing): RequestHandler {
  const metricsKey = metrics.key ? new KeyRing([{ id: 'metrics', keys: [metrics.key] }]) : undefined;
  return (req, _res, next) => {
    if (!keys.open) {
      const key = bearerKey(req.headers.authorization);
      if (!key)
        throw new LlmwatchError('unauthorized', 'missing Authorization: Bearer <project or metrics key>');
      if (keys.lookup(key) === undefined && metricsKey?.lookup(key) === undefined)
        throw new LlmwatchError('unauthorized', 'unknown API key');
    }
    next();
  };
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * In open mode (no keys, loopback only) any web page the operator visits could otherwise read
 * prompts: its script resolves an attacker's name to 127.0.0.1 (DNS rebinding) and the browser
 * sends that name in Host. Only loopback names, `server.host` and `server.allowedHosts` are
 * served; in keyed mode the allow-list applies when configured. Undefined when nothing to check.
 */
export function hostAllowList(server: LlmwatchConfig['server'], keys: KeyRing): RequestHandler | undefined {
  if (!keys.open && server.allowedHosts.length === 0) return undefined;
  const allowed = new Set([
    ...(keys.open ? LOOPBACK_NAMES : []),
    server.host.toLowerCase(),
    ...server.allowedHosts.map((h) => h.toLowerCase()),
  ]);
  return (req, _res, next) => {
    const name = hostName(req.headers.host ?? '');
    if (!allowed.has(name) && !(keys.open && /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name))) {
      throw new LlmwatchError(
        'forbidden',
        `Host ${JSON.stringify(name)} is not served; add it to server.allowedHosts`,
      );
    }
    next();
  };
}

/** The name part of a Host header: `[::1]:4318` → `::1`, `Example.com:80` → `example.com`. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}
