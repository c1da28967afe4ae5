// What the commands print: tables (cli-table3, without borders), label: value lines, the proto3
// JSON mapping with --json, and live views that redraw on a terminal and print a line per
// update otherwise.
import { moveCursor, clearScreenDown } from 'node:readline';
import Table from 'cli-table3';

export const time = (d) => (d ? d.toISOString() : '-');
export const dash = (v) => (v === undefined || v === null || v === '' ? '-' : String(v));
/** An enum value's name without its prefix: JOB_STATUS_DONE → DONE. */
export const enumName = (toJSON, prefix) => (v) => String(toJSON(v)).replace(prefix, '');

const NO_BORDER = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/**
 * Rows as columns aligned on the widest cell, under a header.
 * @param {string[]} header
 * @param {unknown[][]} rows
 */
export function table(header, rows) {
  const t = new Table({ head: header, chars: NO_BORDER, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 } });
  for (const r of rows) t.push(r.map(dash));
  return t
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/** Label: value lines. @param {Array<[string, unknown]>} pairs */
export function fields(pairs) {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${dash(v)}`).join('\n');
}

const wantsJson = (cmd) => Boolean(cmd.optsWithGlobals().json);

/** Prints `message` as JSON (through its type's toJSON) with --json, else what `human` returns. */
export function output(cmd, type, message, human) {
  if (wantsJson(cmd)) console.log(JSON.stringify(type.toJSON(message), null, 2));
  else console.log(human(message));
}

/** One JSON object on one line: what the watch commands print per update with --json. */
export const jsonLine = (value) => console.log(JSON.stringify(value));

export const more = (token) => (token ? `\n(more: --page-token ${token})` : '');

/**
 * A view of rows kept by key that changes as updates come: on a terminal the table is drawn
 * again in place; otherwise (a pipe, a file) each update is one line.
 * @param {string[]} header
 * @param {(row: unknown[]) => string} line the line of one updated row when not on a terminal
 * @param {NodeJS.WriteStream} [stream]
 */
export function liveTable(header, line, stream = process.stdout) {
  /** @type {Map<string, unknown[]>} */
  const rows = new Map();
  let drawn = 0;
  return {
    /** @param {string} key @param {unknown[]} row */
    update(key, row) {
      rows.set(key, row);
      if (!stream.isTTY) {
        stream.write(`${line(row)}\n`);
        return;
      }
      if (drawn) {
        moveCursor(stream, 0, -drawn);
        clearScreenDown(stream);
      }
      const text = table(
        header,
        [...rows.keys()].sort().map((k) => rows.get(k) ?? []),
      );
      stream.write(`${text}\n`);
      drawn = text.split('\n').length;
    },
  };
}
