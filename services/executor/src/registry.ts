// The app registry with its handlers resolved: appName -> handler + options (see contracts' apps).
import { parseAppRegistry, readAppRegistry, type AppEntry } from '@pipewright/contracts';
import { BUILT_IN_HANDLERS, type Handler } from './handlers';

export interface App {
  name: string;
  handler: string;
  options: Record<string, unknown>;
  run: Handler;
}

export type Registry = ReadonlyMap<string, App>;

export function parseRegistry(text: string, source: string, handlers: Record<string, Handler> = BUILT_IN_HANDLERS): Registry {
  return resolveHandlers(parseAppRegistry(text, source), source, handlers);
}

export function loadRegistry(path: string): Registry {
  return resolveHandlers(readAppRegistry(path), path, BUILT_IN_HANDLERS);
}

function resolveHandlers(entries: Map<string, AppEntry>, source: string, handlers: Record<string, Handler>): Registry {
  const out = new Map<string, App>();
  for (const [name, e] of entries) {
    const run = handlers[e.handler];
    if (!run) throw new Error(`app registry ${source}: apps.${name}.handler "${e.handler}" is not one of ${Object.keys(handlers).join(', ')}`);
    out.set(name, { name, handler: e.handler, options: e.options, run });
  }
  return out;
}

/** Topics the registered apps publish to, so they can be created at start-up. */
export function registryTopics(registry: Registry): string[] {
  return [...new Set([...registry.values()].map((a) => a.options.topic).filter((t): t is string => typeof t === 'string'))];
}
