import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router, type Response } from 'express';
import { LlmwatchError } from '../errors.js';

/**
 * The web console (collector/console/) at `/`: a static page whose script reads the JSON API with
 * the project key the user enters (sent as `Authorization: Bearer`), so the page itself holds no
 * data and needs no key. The built collector serves `dist/console/` (written at build time); run
 * from sources it builds the console in memory once, on the first request, so a fresh clone's
 * `pnpm start` has a working console without a build step.
 */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

export const BUILD_CONSOLE_COMMAND =
  '`pnpm build` in the llmwatch checkout (or `pnpm --filter @llmwatch/collector build:console`)';

type Asset = (path: string) => Promise<Uint8Array | undefined>;

/** Built files next to the compiled collector: dist/server/console.js → dist/console/. */
function fromDist(): Asset {
  const root = fileURLToPath(new URL('../console/', import.meta.url));
  return async (path) => {
    try {
      return await readFile(root + path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
}

/** Running from sources (tsx): esbuild, a dev dependency, builds collector/console/ in memory. */
function fromSources(): Asset {
  let built: Promise<Map<string, Uint8Array>> | undefined;
  return async (path) => {
    built ??= (async () => {
      const module = (await import(new URL('../../console/build.ts', import.meta.url).href)) as {
        buildConsole: () => Promise<Map<string, Uint8Array>>;
      };
      return module.buildConsole();
    })();
    // A failed build is retried on the next request (after the source is fixed).
    built.catch(() => (built = undefined));
    return (await built).get(path);
  };
}

function send(res: Response, path: string, body: Uint8Array): void {
  res.set(SECURITY_HEADERS);
  // Revalidated on every load (ETag): a collector upgrade never leaves a stale script behind.
  res.set('Cache-Control', 'no-cache');
  res.type(TYPES[extname(path)] ?? 'application/octet-stream').send(Buffer.from(body));
}

export function createConsoleRouter(): Router {
  const fromSourceTree = import.meta.url.endsWith('.ts');
  const asset = fromSourceTree ? fromSources() : fromDist();
  const router = Router();
  const serve = (path: string) => async (_req: unknown, res: Response) => {
    const body = await asset(path);
    if (body) return send(res, path, body);
    if (path === 'index.html')
      throw new LlmwatchError(
        'unavailable',
        `the web console is not built into this collector: run ${BUILD_CONSOLE_COMMAND} (the JSON API under /api works without it)`,
      );
    throw new LlmwatchError('not_found', `no console file ${path}`);
  };
  router.get(['/', '/index.html'], serve('index.html'));
  router.get('/console/:file', (req, res) => {
    const file = req.params.file;
    // Plain asset names only: never a path, never `..`.
    if (!/^[\w-]+\.(?:js|css|svg)$/.test(file)) throw new LlmwatchError('not_found', 'no such console file');
    return serve(`console/${file}`)(req, res);
  });
  return router;
}
