/**
 * Progress of a long CLI task on stderr: one line rewritten in place on a terminal, a plain line
 * at most every `plainEveryMs` otherwise (logs stay readable). `done()` clears the terminal line.
 */
export function progressLine(
  out: NodeJS.WriteStream = process.stderr,
  plainEveryMs = 10_000,
): { update(text: string): void; done(): void } {
  const tty = out.isTTY === true;
  let lastPlain = 0;
  let shown = false;
  return {
    update(text) {
      if (tty) {
        out.write(`\r\x1b[K${text}`);
        shown = true;
      } else if (Date.now() - lastPlain >= plainEveryMs) {
        lastPlain = Date.now();
        out.write(`${text}\n`);
      }
    },
    done() {
      if (tty && shown) out.write('\r\x1b[K');
    },
  };
}

/** Runs `task`, showing `label` with the seconds it has been waiting, every second on a terminal. */
export async function withElapsed<T>(label: string, task: Promise<T>): Promise<T> {
  const line = progressLine();
  const started = Date.now();
  line.update(`${label}…`);
  const timer = setInterval(
    () => line.update(`${label}… ${Math.round((Date.now() - started) / 1000)} s`),
    1_000,
  );
  try {
    return await task;
  } finally {
    clearInterval(timer);
    line.done();
  }
}
