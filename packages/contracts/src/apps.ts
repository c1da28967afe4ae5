// The app registry: appName -> handler + options, one JSON file read at start-up. The executor
// runs the handlers; the gateway and the scheduler accept jobs only for the apps it names, so an
// unknown app is rejected at the door (INVALID_ARGUMENT, or the DLQ) instead of failing later.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The registry shipped with pipewright (and in every image). */
export const DEFAULT_APPS_CONFIG = join(__dirname, '..', 'apps.default.json');

export interface AppEntry {
  handler: string;
  options: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a registry document; errors name the source and the bad entry. */
export function parseAppRegistry(text: string, source: string): Map<string, AppEntry> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`app registry ${source} is not valid JSON: ${(err as Error).message}`);
  }
  const apps = isObject(doc) ? doc.apps : undefined;
  if (!isObject(apps)) throw new Error(`app registry ${source} needs an "apps" object`);
  const out = new Map<string, AppEntry>();
  for (const [name, entry] of Object.entries(apps)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`app registry ${source}: app name "${name}" may contain only ASCII letters, digits, ".", "_" and "-"`);
    if (!isObject(entry) || typeof entry.handler !== 'string') throw new Error(`app registry ${source}: apps.${name}.handler must be a string`);
    if (entry.options !== undefined && !isObject(entry.options)) throw new Error(`app registry ${source}: apps.${name}.options must be an object`);
    out.set(name, { handler: entry.handler, options: entry.options ?? {} });
  }
  return out;
}

/** Reads the registry file named by APPS_CONFIG. */
export function readAppRegistry(path: string): Map<string, AppEntry> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the app registry APPS_CONFIG=${path}: ${(err as Error).message}`);
  }
  return parseAppRegistry(text, path);
}

/** The app names a registry file accepts. */
export const readAppNames = (path: string): ReadonlySet<string> => new Set(readAppRegistry(path).keys());

export const APPS_CONFIG_HELP = 'path of the app registry (JSON: appName -> handler + options); the gateway and the scheduler accept only its apps';
