/**
 * How much CPU a process got, and how long it waited for one: the sum over its threads of Linux's
 * `/proc/<pid>/task/<tid>/schedstat` (nanoseconds on a CPU, nanoseconds runnable but waiting in the run queue).
 * On a machine shared with other work, the wait is what the load cost this process; on a quiet one it is near 0.
 * Undefined where /proc has no schedstat (not Linux, or a kernel without schedstats).
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuTime {
  cpuMs: number;
  runQueueMs: number;
}

export function cpuTime(pid: number): CpuTime | undefined {
  try {
    let cpuNs = 0;
    let waitNs = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const [onCpu = 0, waiting = 0] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      cpuNs += onCpu;
      waitNs += waiting;
    }
    return { cpuMs: cpuNs / 1e6, runQueueMs: waitNs / 1e6 };
  } catch {
    // A thread that ended between the listing and the read, or no schedstat: no figure rather than a wrong one.
    return undefined;
  }
}

/** What a process used between two readings, rounded for the report. */
export function cpuTimeSince(before: CpuTime | undefined, pid: number): CpuTime | undefined {
  const after = cpuTime(pid);
  if (!before || !after) return undefined;
  return { cpuMs: Math.round(after.cpuMs - before.cpuMs), runQueueMs: Math.round(after.runQueueMs - before.runQueueMs) };
}
