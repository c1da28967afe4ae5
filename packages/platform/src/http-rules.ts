// The routes of the HTTP/JSON door, read from the google.api.http rules in the descriptors, and
// how a request becomes the method's request message under those rules: variables of the path
// template bind fields (`{job_id}`, `{name=items/*}`, `{path=**}`), the body binds the whole
// request (`body: "*"`) or one field, and without a body every other field may be a query
// parameter (`?app_name=sms&page_size=10`, nested as `a.b=`, repeated by repeating the key).
import { FieldError, jsonNameOf, ProtoTypes, type DescriptorSet } from './proto-json';

export interface HttpRule {
  get?: string;
  put?: string;
  post?: string;
  delete?: string;
  patch?: string;
  custom?: { kind: string; path: string };
  body?: string;
  responseBody?: string;
  additionalBindings?: HttpRule[];
}

export interface Route {
  /** GET, POST, ... */
  method: string;
  /** The path template as the rule writes it: /v1/jobs/{job_id}:cancel */
  template: string;
  /** Fully-qualified service and method: pipewright.scheduler.v1.Scheduler */
  service: string;
  rpc: string;
  /** /pipewright.scheduler.v1.Scheduler/CancelJob, as grpc-js names it. */
  path: string;
  inputType: string;
  outputType: string;
  serverStreaming: boolean;
  body?: string;
  responseBody?: string;
  /** The field paths the template's variables bind, in order. */
  variables: string[];
  regex: RegExp;
  /** Literal segments: more of them wins when two templates match. */
  literals: number;
}

const segmentPattern = (s: string) => (s === '**' ? '.+' : s === '*' ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'));

/** Compiles a path template (https://google.aip.dev/127) to a matcher of decoded paths. */
export function compileTemplate(template: string): { regex: RegExp; variables: string[]; literals: number } {
  const verbAt = template.lastIndexOf(':');
  const hasVerb = verbAt > template.lastIndexOf('}') && verbAt > template.lastIndexOf('/');
  const path = hasVerb ? template.slice(0, verbAt) : template;
  const verb = hasVerb ? template.slice(verbAt + 1) : undefined;
  const variables: string[] = [];
  let literals = 0;
  const parts = path
    .replace(/^\//, '')
    .split(/\/(?![^{]*\})/)
    .map((seg) => {
      const v = /^\{([a-zA-Z0-9_.]+)(?:=(.+))?\}$/.exec(seg);
      if (!v) {
        if (seg !== '*' && seg !== '**') literals += 1;
        return segmentPattern(seg);
      }
      variables.push(v[1]);
      return `(${(v[2] ?? '*').split('/').map(segmentPattern).join('/')})`;
    });
  return { regex: new RegExp(`^/${parts.join('/')}${verb ? `:${segmentPattern(verb)}` : ''}$`), variables, literals: literals + (verb ? 1 : 0) };
}

const VERBS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** Every route the descriptors' google.api.http rules declare, most specific first. */
export function routesOf(set: DescriptorSet): Route[] {
  const routes: Route[] = [];
  for (const file of set.file) {
    for (const service of file.service ?? []) {
      const full = file.package ? `${file.package}.${service.name}` : service.name;
      for (const m of service.method ?? []) {
        const rule = m.options?.['[google.api.http]'] as HttpRule | undefined;
        if (!rule || m.clientStreaming) continue;
        for (const r of [rule, ...(rule.additionalBindings ?? [])]) {
          const verb = VERBS.find((v) => r[v]);
          const method = verb ? verb.toUpperCase() : r.custom?.kind.toUpperCase();
          const template = verb ? (r[verb] as string) : r.custom?.path;
          if (!method || !template) continue;
          routes.push({
            method,
            template,
            service: full,
            rpc: m.name,
            path: `/${full}/${m.name}`,
            inputType: m.inputType,
            outputType: m.outputType,
            serverStreaming: Boolean(m.serverStreaming),
            body: r.body || undefined,
            responseBody: r.responseBody || undefined,
            ...compileTemplate(template),
          });
        }
      }
    }
  }
  return routes.sort((a, b) => b.literals - a.literals || b.variables.length - a.variables.length);
}

/** Messages a URL can carry as text: timestamps and the wrappers of scalars. */
const URL_MESSAGES = /^\.google\.protobuf\.(Timestamp|(Double|Float|Int64|UInt64|Int32|UInt32|Bool|String|Bytes)Value)$/;

/** Sets a field path (a.b.c) of an object being built, creating the messages on the way. */
function setPath(types: ProtoTypes, typeName: string, obj: Record<string, unknown>, fieldPath: string, raw: string[], where: string): void {
  const names = fieldPath.split('.');
  let type = typeName;
  let target = obj;
  for (let i = 0; i < names.length; i++) {
    const f = types.field(type, names[i]);
    if (!f) throw new FieldError(names.slice(0, i + 1).join('.'), `is not a field of ${type.slice(1)}`);
    const key = jsonNameOf(f.name);
    const path = names
      .slice(0, i + 1)
      .map((n, j) => (j === i ? f.name : n))
      .join('.');
    if (i < names.length - 1) {
      if (f.type !== 'TYPE_MESSAGE' || f.repeated || f.map || f.typeName?.startsWith('.google.protobuf.')) throw new FieldError(path, `cannot be set in the ${where}`);
      target[key] ??= types.empty(f.typeName as string);
      target = target[key] as Record<string, unknown>;
      type = f.typeName as string;
      continue;
    }
    if (f.map || (f.type === 'TYPE_MESSAGE' && !URL_MESSAGES.test(f.typeName ?? ''))) {
      throw new FieldError(path, `is a message: send it in a JSON body, not in the ${where}`);
    }
    if (!f.repeated && raw.length > 1) throw new FieldError(path, `is given ${raw.length} times in the ${where}`);
    // Text from a URL: numbers, enums and times are read as their JSON text would be.
    const value = (s: string): unknown => (f.type === 'TYPE_BOOL' ? (s === 'true' || s === '1' ? true : s === 'false' || s === '0' ? false : s) : s);
    target[key] = types.fieldFromJson(f, f.repeated ? raw.map(value) : value(raw[0]), path);
  }
}

/** The request message of a route: path variables, then the body or the query parameters. */
export function requestOf(types: ProtoTypes, route: Route, match: RegExpExecArray, query: URLSearchParams, body: unknown): Record<string, unknown> {
  let request: Record<string, unknown>;
  if (route.body === '*') {
    request = body === undefined ? types.empty(route.inputType) : types.fromJson(route.inputType, body);
  } else {
    request = types.empty(route.inputType);
    if (route.body) {
      const f = types.field(route.inputType, route.body);
      if (!f) throw new Error(`${route.path}: body ${route.body} is not a field of ${route.inputType}`);
      if (body !== undefined) request[jsonNameOf(f.name)] = types.fieldFromJson(f, body, f.name);
    }
  }
  route.variables.forEach((v, i) => {
    let value: string;
    try {
      value = decodeURIComponent(match[i + 1]);
    } catch {
      throw new FieldError(v, 'is not valid percent-encoded text in the path');
    }
    setPath(types, route.inputType, request, v, [value], 'path');
  });
  if (route.body !== '*') {
    const keys = [...new Set(query.keys())];
    for (const key of keys) {
      if (route.variables.includes(key)) throw new FieldError(key, 'is bound by the path; it cannot be a query parameter too');
      setPath(types, route.inputType, request, key, query.getAll(key), 'query');
    }
  } else if ([...query.keys()].length) {
    throw new FieldError([...query.keys()][0], `${route.method} ${route.template} takes its fields in the JSON body, not as query parameters`);
  }
  return request;
}
