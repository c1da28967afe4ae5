// Least privilege at the broker, derived from the one table of who reads and writes what
// (packages/contracts/services.json) and the app registry: each service's principal may read
// the topics it consumes and join its own consumer groups, write the topics it produces, and
// create those topics; the executor writes what its handlers write, and each kafka.publish app
// its own topic (or, with none fixed, the topics under its own prefix "<app>."); the monitor
// describes every topic and group, reads __consumer_offsets, and re-sends dead letters to the
// topics the other services consume. The chart, scripts/kafka-acls.mjs and the tests take the
// ACLs from here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_LIST, SERVICES_FILE } from './services.mjs';

export const DEFAULT_APPS_FILE = join(SERVICES_FILE, '..', 'apps.default.json');
export const CONSUMER_OFFSETS = '__consumer_offsets';

/** The apps of a registry file ({"apps": {name: {handler, options}}}). */
export function readApps(file = DEFAULT_APPS_FILE) {
  return JSON.parse(readFileSync(file, 'utf8')).apps;
}

/**
 * @typedef {'Read' | 'Write' | 'Create' | 'Describe'} Operation
 * @typedef {{ resource: 'topic' | 'group', name: string, pattern: 'literal' | 'prefixed', operations: Operation[] }} Acl
 * @typedef {{ service: string, user: string, principal: string, acls: Acl[] }} ServiceAcls
 */

/**
 * What a kafka.publish app may write: its own topic, else the topics under "<app>.".
 * @returns {Omit<Acl, 'operations'>}
 */
export function appTopicAcl(name, app) {
  const topic = app.options?.topic;
  return typeof topic === 'string' && topic ? { resource: 'topic', name: topic, pattern: 'literal' } : { resource: 'topic', name: `${name}.`, pattern: 'prefixed' };
}

/**
 * Every service's ACLs. userPrefix goes before the service name in the user name
 * (User:<userPrefix><service>); apps is the executor's registry (the images' own by default).
 * @returns {ServiceAcls[]}
 */
export function kafkaAcls({ services = SERVICE_LIST, apps = readApps(), userPrefix = '' } = {}) {
  const consumedByOthers = (self) => services.filter((s) => s.name !== self).flatMap((s) => s.consumes);
  const ownTopics = services.flatMap((s) => [...s.consumes, ...s.produces]);
  return services.map((s) => {
    /** @type {Map<string, Acl>} */
    const acls = new Map();
    /** @type {(resource: Acl['resource'], name: string, pattern: Acl['pattern'], ...operations: Operation[]) => void} */
    const allow = (resource, name, pattern, ...operations) => {
      const key = `${resource}\u0000${pattern}\u0000${name}`;
      const acl = acls.get(key) ?? { resource, name, pattern, operations: [] };
      for (const op of operations) if (!acl.operations.includes(op)) acl.operations.push(op);
      acls.set(key, acl);
    };
    for (const t of s.consumes) allow('topic', t, 'literal', 'Read', 'Create');
    for (const t of s.produces) allow('topic', t, 'literal', 'Write', 'Create');
    for (const t of Object.values(s.handlerTopics ?? {}).flat()) allow('topic', t, 'literal', 'Write', 'Create');
    if (s.publishesForApps) {
      for (const [name, app] of Object.entries(apps)) {
        if (app.handler !== 'kafka.publish') continue;
        const a = appTopicAcl(name, app);
        // An app may not be granted pipewright's own topics, by its topic or by its prefix.
        const own = ownTopics.find((t) => (a.pattern === 'literal' ? t === a.name : t.startsWith(a.name)));
        if (own)
          throw new Error(
            `app "${name}": its topics (${a.pattern === 'literal' ? a.name : `${a.name}*`}) would include ${own}, which pipewright itself uses; give the app another name or options.topic`,
          );
        allow(a.resource, a.name, a.pattern, 'Write', 'Create');
      }
    }
    if (s.replaysDeadLetters) for (const t of consumedByOthers(s.name)) allow('topic', t, 'literal', 'Write');
    if (s.readsClusterState) {
      allow('topic', '*', 'literal', 'Describe');
      allow('group', '*', 'literal', 'Describe');
      allow('topic', CONSUMER_OFFSETS, 'literal', 'Read');
    }
    for (const g of s.groups ?? []) allow('group', g, 'literal', 'Read');
    const user = `${userPrefix}${s.name}`;
    return { service: s.name, user, principal: `User:${user}`, acls: [...acls.values()] };
  });
}

const q = (v) => (/^[A-Za-z0-9_.:\-/=*]+$/.test(v) && v !== '*' ? v : `'${v.replaceAll("'", "'\\''")}'`);

/**
 * kafka-acls.sh commands that grant the ACLs on a plain cluster, one per principal, resource
 * kind, pattern type and set of operations (kafka-acls grants every listed operation on every
 * listed resource).
 * @param {ServiceAcls[]} table
 */
export function aclCommands(table, { tool = 'kafka-acls.sh', bootstrap = '"$BOOTSTRAP"', commandConfig = '"$ADMIN_CONFIG"' } = {}) {
  const lines = [];
  for (const s of table) {
    /** @type {Map<string, Acl[]>} */
    const batches = new Map();
    for (const a of s.acls) {
      const key = `${a.resource}\u0000${a.pattern}\u0000${a.operations.join(',')}`;
      batches.set(key, [...(batches.get(key) ?? []), a]);
    }
    for (const batch of batches.values()) {
      const [{ resource, pattern, operations }] = batch;
      lines.push(
        [
          tool,
          '--bootstrap-server',
          bootstrap,
          '--command-config',
          commandConfig,
          '--add',
          '--allow-principal',
          q(s.principal),
          ...operations.flatMap((o) => ['--operation', o]),
          ...(pattern === 'prefixed' ? ['--resource-pattern-type', 'prefixed'] : []),
          ...batch.flatMap((a) => [`--${resource}`, q(a.name)]),
        ].join(' '),
      );
    }
  }
  return lines;
}

/**
 * The table as Markdown, a row per service: the topics it reads and writes (a prefix ends in
 * "…"), its consumer groups, and what it may describe. Every topic it reads or writes it may
 * also create, except those the monitor only re-sends dead letters to.
 */
export function aclMarkdown(table) {
  const names = (acls) => acls.map((a) => `\`${a.name}\`${a.pattern === 'prefixed' ? '…' : ''}`).join(', ') || '—';
  const rows = ['| service | reads | writes | consumer groups | describes |', '|---|---|---|---|---|'];
  for (const s of table) {
    const on = (resource, op) => s.acls.filter((a) => a.resource === resource && a.operations.includes(op));
    const describes = [...on('topic', 'Describe').map((a) => `topics \`${a.name}\``), ...on('group', 'Describe').map((a) => `groups \`${a.name}\``)].join(', ') || '—';
    rows.push(`| ${s.service} | ${names(on('topic', 'Read'))} | ${names(on('topic', 'Write'))} | ${names(on('group', 'Read'))} | ${describes} |`);
  }
  return rows;
}

/** The table in docs/security.md, for the images' app registry (scripts/kafka-acls.mjs --write-docs writes it). */
export function docsBlock() {
  return { file: join(SERVICES_FILE, '..', '..', '..', 'docs', 'security.md'), begin: '<!-- kafka-acls:begin -->', end: '<!-- kafka-acls:end -->', lines: aclMarkdown(kafkaAcls()) };
}
