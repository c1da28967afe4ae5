// Running the pipewright CLI in the CLI's tests: as a child process with pipes (not a terminal),
// under a pseudo-terminal (util-linux `script`), or left running (a watch) until it is stopped.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, makeTestDir } from '@pipewright/testkit';

export const CLI = join(ROOT, 'packages', 'cli', 'bin', 'pipewright.mjs');

/** An environment without the caller's PIPEWRIGHT_* and with a home that holds no local run. */
export function cliEnv() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PIPEWRIGHT_')));
  env.PIPEWRIGHT_HOME = makeTestDir();
  return env;
}

/** The --<service> host:port flags of a stack's running services. @param {import('@pipewright/testkit').Stack} stack @param {string[]} services */
export const addressFlags = (stack, services) => services.flatMap((s) => [`--${s}`, stack.address(s)]);

/**
 * Runs `pipewright <args>` with pipes for stdin, stdout and stderr; resolves to its exit code and output.
 * @param {string[]} args
 * @param {Record<string, string | undefined>} env
 * @param {{ input?: string }} [options]
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
export function runCli(args, env, { input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/**
 * Starts `pipewright <args>` and leaves it running: `lines` fills with its stdout lines, `stop`
 * sends SIGINT (what Ctrl-C sends) and resolves to the exit code and stderr.
 * @param {string[]} args
 * @param {Record<string, string | undefined>} env
 */
export function startCli(args, env) {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  /** @type {string[]} */
  const lines = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.on('data', (d) => (stderr += d));
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  return {
    lines,
    exited,
    async stop() {
      child.kill('SIGINT');
      return { code: await exited, stderr };
    },
  };
}

/**
 * Starts `pipewright <args>` under a pseudo-terminal (util-linux `script`): its stdin, stdout and
 * stderr are a terminal. `screen` is everything the terminal showed so far (escape sequences
 * included), `waitFor` waits until it matches, `type` types keys into the terminal ('\r' is
 * Enter, '\x03' Ctrl-C), `exited` resolves to the exit code. Killed after `timeoutMs`.
 * @param {string[]} args
 * @param {Record<string, string | undefined>} env
 */
export function openTerminal(args, env, { timeoutMs = 180_000 } = {}) {
  const quote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  // A terminal of 160 columns and 50 rows (a pseudo-terminal starts with no size).
  const command = `stty cols 160 rows 50; exec ${[process.execPath, CLI, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...env, TERM: 'xterm-256color', SHELL: '/bin/sh' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  /** @type {Array<() => void>} */
  let watchers = [];
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const seen = (d) => {
    screen += d;
    for (const w of watchers) w();
  };
  child.stdout.on('data', seen);
  child.stderr.on('data', seen);
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      for (const w of watchers) w();
      resolve(code);
    });
  });
  return {
    get screen() {
      return screen;
    },
    exited,
    /** @param {string} keys */
    type: (keys) => child.stdin.write(keys),
    /** Resolves once the screen, escape sequences left out, matches. @param {RegExp} pattern */
    waitFor(pattern, waitMs = 60_000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => done(new Error(`the terminal did not show ${pattern} within ${waitMs} ms:\n${plain(screen)}`)), waitMs);
        const check = () => {
          if (pattern.test(plain(screen))) done();
          else if (child.exitCode !== null) done(new Error(`pipewright exited before the terminal showed ${pattern}:\n${plain(screen)}`));
        };
        const done = (err) => {
          clearTimeout(t);
          watchers = watchers.filter((w) => w !== check);
          if (err) reject(err);
          else resolve(undefined);
        };
        watchers.push(check);
        check();
      });
    },
  };
}

/** Text without terminal escape sequences (colours, cursor moves) and carriage returns. */
export const plain = (s) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

/** An error printed in words: one line, no stack trace. */
export function inWords(stderr, pattern) {
  assert.match(stderr.trim(), pattern);
  assert.equal(stderr.trim().split('\n').length, 1, `one line, not:\n${stderr}`);
  assert.doesNotMatch(stderr, /^\s+at /m);
}
