// Keeps a set of processes running: one that exits when it was not asked to is started again
// after a delay that doubles with each exit in a row (1 s, 2 s, 4 s, … up to a cap), and every
// exit and restart is reported. Stopping goes group by group, the last added group first (the
// services before the Kafka and PostgreSQL they need); force() ends whatever is left at once.
//
// A unit is { name, group, start({ signal }) }: start resolves, once the process is ready, with a
// handle { child, stop(): Promise, kill?(): void } (child: the ChildProcess; kill defaults to
// SIGKILL). `signal` aborts when the supervisor stops, so that a start in progress gives up.
import { isRunning } from './proc.mjs';

/** The delay before restart number `failures` in a row (1 for the first): base·2^(n-1), capped. */
export function backoffMs(failures, { baseMs = 1000, maxMs = 30_000 } = {}) {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
}

export function describeExit(code, signal) {
  return signal ? `signal ${signal}` : `code ${code}`;
}

export class Supervisor {
  /**
   * log: a line for each exit and restart. baseMs/maxMs: the backoff. stableMs: a process that
   * ran this long before it exited starts again after baseMs (its count of exits in a row ends).
   * onChange: called after each start, with list().
   * @param {{ log?: (line: string) => void, baseMs?: number, maxMs?: number, stableMs?: number, onChange?: (list: any[]) => void }} [options]
   */
  constructor({ log = () => {}, baseMs = 1000, maxMs = 30_000, stableMs = 60_000, onChange = () => {} } = {}) {
    this.log = log;
    this.baseMs = baseMs;
    this.maxMs = maxMs;
    this.stableMs = stableMs;
    this.onChange = onChange;
    /** @type {any[]} */
    this.entries = [];
    this.stopping = false;
    this.abort = new AbortController();
  }

  /** Starts a unit and keeps it running; rejects if its first start fails (nothing is kept). */
  async add(unit) {
    if (this.stopping) throw new Error('the supervisor is stopping');
    const entry = { unit, handle: undefined, restarts: 0, failures: 0, startedAt: 0, timer: undefined, starting: undefined, stopped: undefined };
    this.entries.push(entry);
    entry.starting = unit.start({ signal: this.abort.signal });
    let handle;
    try {
      handle = await entry.starting;
    } catch (err) {
      this.entries.splice(this.entries.indexOf(entry), 1);
      throw err;
    } finally {
      entry.starting = undefined;
    }
    this.#running(entry, handle);
    return handle;
  }

  #running(entry, handle) {
    entry.handle = handle;
    entry.startedAt = Date.now();
    if (this.stopping) {
      entry.stopped ??= handle.stop();
      return;
    }
    this.onChange(this.list());
    if (!isRunning(handle.child)) this.#exited(entry, handle, handle.child.exitCode, handle.child.signalCode);
    else handle.child.once('exit', (code, signal) => this.#exited(entry, handle, code, signal));
  }

  #exited(entry, handle, code, signal) {
    if (this.stopping || entry.handle !== handle) return;
    entry.failures = Date.now() - entry.startedAt >= this.stableMs ? 1 : entry.failures + 1;
    this.#schedule(entry, `${entry.unit.name} exited (${describeExit(code, signal)})`);
  }

  #schedule(entry, why) {
    const delay = backoffMs(entry.failures, this);
    entry.restarts += 1;
    this.log(`${why}; restart ${entry.restarts} in ${delay / 1000} s`);
    entry.timer = setTimeout(() => this.#restart(entry), delay);
  }

  async #restart(entry) {
    entry.timer = undefined;
    if (this.stopping) return;
    let handle;
    try {
      entry.starting = entry.unit.start({ signal: this.abort.signal });
      handle = await entry.starting;
    } catch (err) {
      if (this.stopping) return;
      entry.failures += 1;
      this.#schedule(entry, `${entry.unit.name} did not come back (${/** @type {Error} */ (err).message.split('\n')[0]})`);
      return;
    } finally {
      entry.starting = undefined;
    }
    if (!this.stopping) this.log(`${entry.unit.name} is back (restart ${entry.restarts})`);
    this.#running(entry, handle);
  }

  /** Every unit: { name, group, restarts, pid, handle }. */
  list() {
    return this.entries.map((e) => ({ name: e.unit.name, group: e.unit.group, restarts: e.restarts, pid: e.handle?.child.pid, handle: e.handle }));
  }

  /**
   * Stops everything, group by group (the last added group first), each group's units together.
   * @param {{ onGroup?: (group: string) => void }} [options]
   */
  async stop({ onGroup = () => {} } = {}) {
    this.stopping = true;
    this.abort.abort();
    const groups = [];
    for (const e of this.entries) if (!groups.includes(e.unit.group)) groups.push(e.unit.group);
    for (const group of groups.reverse()) {
      onGroup(group);
      await Promise.all(this.entries.filter((e) => e.unit.group === group).map(async (e) => {
        clearTimeout(e.timer);
        await e.starting?.catch(() => undefined);
        // A restart that finished while stopping has begun to stop its process (see #running).
        if (e.handle && (e.stopped || isRunning(e.handle.child))) await (e.stopped ??= e.handle.stop());
      }));
    }
  }

  /** Ends every process at once (a second Ctrl-C). */
  force() {
    this.stopping = true;
    this.abort.abort();
    for (const e of this.entries) {
      clearTimeout(e.timer);
      if (e.handle && isRunning(e.handle.child)) (e.handle.kill ?? (() => e.handle.child.kill('SIGKILL')))();
    }
  }
}
