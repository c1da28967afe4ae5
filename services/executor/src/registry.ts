// The app registry: appName -> handler + options, read from a JSON file at start-up.
import { readFileSync } from 'node:fs';
import { BUILT_IN_HANDLERS, type Handler } from './handlers';

export interface App {
  name: string;
  handler: string;
  options: Record<string, unknown>;
  run: Handler;
}

export type Registry = ReadonlyMap<string, App>;

export function parseRegistry(text: string, source: string, handlers: Record<string, Handler> = BUILT_IN_HANDLERS): Registry {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`app registry ${source} is not valid JSON: ${(err as Error).message}`);
  }
  const apps = (doc as { apps?: unknown })?.apps;
  if (typeof apps !== 'object' || apps === null || Array.isArray(apps)) throw new Error(`app registry ${source} needs an "apps" object`);
  const out = new Map<string, App>();
  for (const [name, entry] of Object.entries(apps as Record<string, unknown>)) {
    const e = entry as { handler?: unknown; options?: unknown };
    if (typeof e?.handler !== 'string') throw new Error(`app registry ${source}: apps.${name}.handler must be a string`);
    const run = handlers[e.handler];
    if (!run) throw new Error(`app registry ${source}: apps.${name}.handler "${e.handler}" is not one of ${Object.keys(handlers).join(', ')}`);
    if (e.options !== undefined && (typeof e.options !== 'object' || e.options === null || Array.isArray(e.options))) {
      throw new Error(`app registry ${source}: apps.${name}.options must be an object`);
    }
    out.set(name, { name, handler: e.handler, options: (e.options as Record<string, unknown>) ?? {}, run });
  }
  return out;
}

export function loadRegistry(path: string): Registry {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the app registry APPS_CONFIG=${path}: ${(err as Error).message}`);
  }
  return parseRegistry(text, path);
}

/** Topics the registered apps publish to, so they can be created at start-up. */
export function registryTopics(registry: Registry): string[] {
  return [...new Set([...registry.values()].map((a) => a.options.topic).filter((t): t is string => typeof t === 'string'))];
}
