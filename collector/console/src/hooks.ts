import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';

export type Loaded<T> =
  { state: 'loading' } | { state: 'error'; error: string; status?: number } | { state: 'ready'; data: T };

/** Runs `load` whenever `key` changes, dropping answers to superseded requests. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, key: string): Loaded<T> {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    const controller = new AbortController();
    setResult({ state: 'loading' });
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setResult({ state: 'ready', data });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setResult({
          state: 'error',
          error: error instanceof Error ? error.message : String(error),
          ...(error instanceof ApiError ? { status: error.status } : {}),
        });
      },
    );
    return () => controller.abort();
    // `load` is recreated on every render; `key` says when what it loads changed.
  }, [key]);
  return result;
}
