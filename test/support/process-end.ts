/**
 * Servers a test or bench starts (PostgreSQL clusters, PgBouncer) must not outlive it, however it ends: normally, on
 * an uncaught error, or stopped with Ctrl-C (SIGINT), SIGTERM or a closed terminal (SIGHUP). Node runs no `finally`
 * on a signal, so each server registers a synchronous kill here; the signal is then raised again, so the process
 * still ends the way the signal means (a bench stopped with Ctrl-C exits as interrupted, not as finished).
 */
const kills = new Set<() => void>();
let installed = false;

function killAll(): void {
  for (const kill of [...kills]) {
    kills.delete(kill);
    try {
      kill();
    } catch {
      // the process is already gone; the others must still be killed
    }
  }
}

/** Runs `kill` (synchronously) when this process ends, unless the returned function was called first. */
export function killWhenProcessEnds(kill: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', killAll);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        killAll();
        process.kill(process.pid, signal);
      });
    }
  }
  kills.add(kill);
  return () => kills.delete(kill);
}
