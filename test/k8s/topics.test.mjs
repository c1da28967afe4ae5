// The umbrella chart's topic Job, run as rendered against a real broker: Kafka's own
// kafka-topics tool (TopicCommand from the kafka-tools jar, as /opt/kafka/bin/kafka-topics.sh
// runs it in the apache/kafka image) creates the missing topics and grows short ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UMBRELLA, render } from '../../scripts/lib/k8s-charts.mjs';
import { startStack, kafkaJars } from '@pipewright/testkit';

const prefix = `k8s-topics-${randomBytes(3).toString('hex')}`;
const topics = { [`${prefix}.a`]: 3, [`${prefix}.b`]: undefined, [`${prefix}.c`]: 5 };
const DEFAULT_PARTITIONS = 4;

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('kafkajs').Admin} */
let admin;
before(async () => {
  stack = await startStack();
  admin = stack.kafka.admin();
  await admin.connect();
});
after(async () => {
  await admin?.deleteTopics({ topics: Object.keys(topics) }).catch(() => undefined);
  await admin?.disconnect();
  await stack?.stop();
});

/** The Job's script with the image's kafka-topics.sh and the in-cluster address made local. */
function jobScript() {
  const set = { 'kafka.defaultPartitions': DEFAULT_PARTITIONS };
  Object.entries(topics).forEach(([name, partitions], i) => {
    set[`kafka.topics[${i}].name`] = name;
    if (partitions) set[`kafka.topics[${i}].partitions`] = partitions;
  });
  const job = render(UMBRELLA, { set }).objects.find((o) => o.kind === 'Job');
  const [c] = job.spec.template.spec.containers;
  assert.deepEqual(c.command, ['/bin/bash', '-c']);
  const tool = join(stack.workDir, 'kafka-topics.sh');
  writeFileSync(tool, `#!/bin/sh\nexec java -Xmx256m -cp '${kafkaJars({ log: () => {} })}/*' org.apache.kafka.tools.TopicCommand "$@"\n`);
  chmodSync(tool, 0o755);
  const script = c.args[0].replaceAll('/opt/kafka/bin/kafka-topics.sh', tool).replace(/^bootstrap=.*$/m, `bootstrap=${stack.brokers}`);
  assert.notEqual(script, c.args[0]);
  return script;
}

const partitionCounts = async () => Object.fromEntries((await admin.fetchTopicMetadata({ topics: Object.keys(topics) })).topics.map((t) => [t.name, t.partitions.length]));

test('the topic Job creates missing topics and grows those with fewer partitions', async () => {
  const script = jobScript();
  // One topic exists already with fewer partitions than the chart asks for.
  await admin.createTopics({ topics: [{ topic: `${prefix}.c`, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
  const first = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(first.status, 0, `the Job's script failed:\n${first.stdout}\n${first.stderr}`);
  assert.deepEqual(await partitionCounts(), { [`${prefix}.a`]: 3, [`${prefix}.b`]: DEFAULT_PARTITIONS, [`${prefix}.c`]: 5 });
  assert.match(first.stdout, new RegExp(`grew ${prefix.replaceAll('.', '\\.')}\\.c from 2 to 5 partitions`));
  // Run again (the next upgrade): nothing to do, and it says so.
  const second = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(second.status, 0, second.stderr);
  for (const [name, n] of Object.entries({ [`${prefix}.a`]: 3, [`${prefix}.b`]: DEFAULT_PARTITIONS, [`${prefix}.c`]: 5 })) {
    assert.match(second.stdout, new RegExp(`${name.replaceAll('.', '\\.')} has ${n} partitions`));
  }
});
