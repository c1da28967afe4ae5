// The browser of the dashboard's tests: Debian's chromium, driven by playwright-core (whose own
// browser downloads do not work here). Installed with apt-get when missing and this process is
// root; otherwise one line says what to install.
import { existsSync } from 'node:fs';
import { aptInstall } from './apt.mjs';

export const CHROMIUM = process.env.PIPEWRIGHT_CHROMIUM ?? '/usr/bin/chromium';
/** Flags that let chromium run headless as root on a machine without a GPU or a display. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/**
 * The chromium binary, installed first when missing (as root, from Debian's packages).
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {string}
 */
export function ensureChromium({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  aptInstall(['chromium'], {
    present: () => existsSync(CHROMIUM),
    unavailable: `the dashboard's browser tests need chromium at ${CHROMIUM}: install it as root, or set PIPEWRIGHT_CHROMIUM to a chromium binary`,
    lockName: '.chromium.lock',
    log,
  });
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is still missing at ${CHROMIUM} after apt-get install`);
  return CHROMIUM;
}
