// Consumer status the way Burrow evaluates it (linkedin/Burrow, core/internal/evaluator), over
// the last commits of a partition (its window, oldest first), the partition's latest log-end
// offsets and its current lag:
//
//   - lag within the allowed lag: OK, whatever the window says;
//   - STOP: no commit for longer than the window spans (now - last > last - first), unless one
//     of the recent log-end offsets was at or below the last commit (it was caught up lately);
//   - REWIND: the committed offset went back within the window and has not come back since;
//   - when the lag was above the allowed lag at every commit of the window:
//       STALL: the same offset at every commit; WARN: the lag never went down;
//   - else OK.
// A group is as bad as its worst partition, STOP, STALL and REWIND being reported as ERR.

export type PartitionStatus = 'OK' | 'WARN' | 'STOP' | 'STALL' | 'REWIND';
export type GroupStatus = 'OK' | 'WARN' | 'ERR';

/** Burrow's numbers for the statuses (the value of pipewright_consumergroup_status). */
export const STATUS_NUMBER: Record<PartitionStatus | GroupStatus, number> = { OK: 1, WARN: 2, ERR: 3, STOP: 4, STALL: 5, REWIND: 6 };

export interface Commit {
  /** The committed offset: the next message the group reads. */
  offset: number;
  /** When the group coordinator took the commit, epoch milliseconds. */
  time: number;
  /** Log-end offset read last before the commit, minus the offset; null when none was read. */
  lag: number | null;
}

const lagAlwaysAbove = (commits: Commit[], allowedLag: number) => commits.every((c) => c.lag === null || c.lag > allowedLag);

/** Index of the first commit lower than the one before it, or -1. */
function rewindIndex(commits: Commit[]): number {
  for (let i = 1; i < commits.length; i++) if (commits[i].offset < commits[i - 1].offset) return i;
  return -1;
}

/** After a rewind, the group reached the offset it had before it again. */
const rewindRecovered = (commits: Commit[], at: number) => commits.slice(at).some((c) => c.offset >= commits[at - 1].offset);

const stopped = (commits: Commit[], now: number) => {
  const first = commits[0].time;
  const last = commits[commits.length - 1].time;
  return now - last > last - first;
};

/** One of the recent log-end offsets was at or below the last commit: the group was caught up lately. */
const recentLagZero = (commits: Commit[], recentEnds: number[]) => recentEnds.some((end) => end <= commits[commits.length - 1].offset);

const stalled = (commits: Commit[]) => commits.every((c) => c.offset === commits[0].offset);

function lagNotDecreasing(commits: Commit[]): boolean {
  let last: number | null = null;
  for (const c of commits) {
    if (c.lag === null) continue;
    if (last !== null && c.lag < last) return false;
    last = c.lag;
  }
  return true;
}

/**
 * The status of one partition of a group: its window of commits (oldest first, not empty), its
 * recent log-end offsets, its lag now, the time now and the lag that counts as none.
 */
export function partitionStatus(commits: Commit[], recentEnds: number[], currentLag: number, now: number, allowedLag: number): PartitionStatus {
  if (commits.length === 0 || currentLag <= allowedLag) return 'OK';
  if (stopped(commits, now) && !recentLagZero(commits, recentEnds)) return 'STOP';
  const rewind = rewindIndex(commits);
  if (rewind > 0 && !rewindRecovered(commits, rewind)) return 'REWIND';
  // One commit shows no trend: an offset unchanged, or a lag that grew, takes two or more.
  if (commits.length >= 2 && lagAlwaysAbove(commits, allowedLag)) {
    if (stalled(commits)) return 'STALL';
    if (lagNotDecreasing(commits)) return 'WARN';
  }
  return 'OK';
}

/** The worst of the partitions' statuses, STOP, STALL and REWIND as ERR. */
export function groupStatus(statuses: PartitionStatus[]): GroupStatus {
  let worst: GroupStatus = 'OK';
  for (const s of statuses) {
    if (s === 'WARN' && worst === 'OK') worst = 'WARN';
    else if (s === 'STOP' || s === 'STALL' || s === 'REWIND') return 'ERR';
  }
  return worst;
}

export interface EndPoint {
  /** When the log-end offset was read, epoch milliseconds. */
  time: number;
  end: number;
}

/**
 * How old the oldest message not consumed is, in seconds, from the times the log-end offset was
 * read (oldest first): when the end passed the committed offset, interpolated between two
 * readings, or extrapolated at the observed rate when the committed offset is older than every
 * reading (as kafka-lag-exporter does).
 */
export function lagSeconds(points: EndPoint[], committed: number, now: number): number {
  const latest = points[points.length - 1];
  if (!latest || committed >= latest.end) return 0;
  // The message at `committed` was written when the end went from committed to committed + 1.
  const target = committed + 1;
  const j = points.findIndex((p) => p.end >= target);
  let writtenAt: number;
  if (j > 0) {
    const a = points[j - 1];
    const b = points[j];
    writtenAt = a.time + ((target - a.end) / (b.end - a.end)) * (b.time - a.time);
  } else {
    const first = points[0];
    const rate = latest.time > first.time ? (latest.end - first.end) / (latest.time - first.time) : 0;
    writtenAt = rate > 0 ? first.time - (first.end - target) / rate : first.time;
  }
  return Math.max(0, (now - writtenAt) / 1000);
}
