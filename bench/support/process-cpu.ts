import { readdirSync, readFileSync } from 'node:fs';

/**
 * Where a machine's CPU went, by part (Linux /proc, in clock ticks, the unit of /proc/stat's machine totals). The
 * fleet bench runs central, PgBouncer and the simulated kiosks on the same 2 cores, so its "CPU busy" alone cannot say
 * whether central or the kiosks ran out; this does.
 */

interface ProcTimes {
  ppid: number;
  /** utime + stime: the process's own CPU. */
  own: number;
  /** cutime + cstime: its exited children's, once it has reaped them (a postmaster's ended backends). */
  reaped: number;
}

function procTimes(pid: number): ProcTimes | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // gone, or not Linux
  }
  // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return { ppid: f[1] ?? 0, own: (f[11] ?? 0) + (f[12] ?? 0), reaped: (f[13] ?? 0) + (f[14] ?? 0) };
}

/** A process's own CPU, its reaped children's, and its live children's own (one level: a postmaster's backends). */
function treeTicks(root: number, all: Map<number, ProcTimes>): number {
  const top = all.get(root);
  if (!top) return 0;
  let ticks = top.own + top.reaped;
  for (const p of all.values()) if (p.ppid === root) ticks += p.own;
  return ticks;
}

function allProcesses(): Map<number, ProcTimes> {
  const all = new Map<number, ProcTimes>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return all;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const t = procTimes(Number(name));
    if (t) all.set(Number(name), t);
  }
  return all;
}

/** Each part's ticks so far: a part is one or more root processes, each counted with its children. */
export function partTicks(parts: Record<string, Array<number | null | undefined>>): Record<string, number> {
  const all = allProcesses();
  return Object.fromEntries(
    Object.entries(parts).map(([part, roots]) => [part, roots.reduce<number>((sum, pid) => sum + (pid ? treeTicks(pid, all) : 0), 0)]),
  );
}

/** The machine's CPU, busy and total ticks since boot (/proc/stat's first line). */
export function machineTicks(): { busy: number; total: number } {
  let line = '';
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  } catch {
    return { busy: 0, total: 0 };
  }
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface CpuShares {
  /** Share of the whole machine (all cores) that was busy, in %. */
  busy: number;
  /** Each part's share of the whole machine, in %. */
  parts: Record<string, number>;
}

/** Starts a measurement; the function it returns ends it. */
export function measureCpu(parts: () => Record<string, Array<number | null | undefined>>): () => CpuShares {
  const m0 = machineTicks();
  const p0 = partTicks(parts());
  return () => {
    const m1 = machineTicks();
    const p1 = partTicks(parts());
    const total = Math.max(1, m1.total - m0.total);
    return {
      busy: (100 * (m1.busy - m0.busy)) / total,
      parts: Object.fromEntries(Object.entries(p1).map(([part, ticks]) => [part, (100 * Math.max(0, ticks - (p0[part] ?? 0))) / total])),
    };
  };
}
