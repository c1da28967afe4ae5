// Consumer lag on /metrics with the names kafka-lag-exporter gives it (so that the Grafana
// dashboards made for it work), the status of each group (Burrow's number), and the depth of
// each DLQ topic; all read from the lag evaluation when Prometheus scrapes.
import { prom } from '@pipewright/platform';
import { STATUS_NUMBER } from './burrow';
import type { LagTracker } from './lag';
import { DLQ_TOPICS } from './dead-letters';

export function registerLagMetrics(registry: prom.Registry, lag: LagTracker, clusterName: string): void {
  // Every gauge is filled from one evaluation per scrape: each one's collect waits for it.
  let filling: { at: number; done: Promise<void> } | undefined;
  const filled = () => {
    if (!filling || Date.now() - filling.at > 250) filling = { at: Date.now(), done: fill() };
    return filling.done;
  };
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new prom.Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        await filled();
      },
    });
  const partitionLabels = ['cluster_name', 'group', 'topic', 'partition'] as const;
  const offset = gauge('kafka_consumergroup_group_offset', 'Last committed offset of the group, per partition', partitionLabels);
  const partitionLag = gauge('kafka_consumergroup_group_lag', 'Messages the group has not consumed yet, per partition (log-end offset minus committed offset)', partitionLabels);
  const lagSeconds = gauge('kafka_consumergroup_group_lag_seconds', 'How old the oldest message the group has not consumed is, in seconds, per partition', partitionLabels);
  const maxLag = gauge('kafka_consumergroup_group_max_lag', 'The largest lag of one partition of the group, in messages', ['cluster_name', 'group']);
  const maxLagSeconds = gauge('kafka_consumergroup_group_max_lag_seconds', 'The largest lag of one partition of the group, in seconds', ['cluster_name', 'group']);
  const sumLag = gauge('kafka_consumergroup_group_sum_lag', 'Messages the group has not consumed yet, summed over its partitions', ['cluster_name', 'group']);
  const topicSumLag = gauge('kafka_consumergroup_group_topic_sum_lag', 'Messages the group has not consumed yet, summed over the partitions of a topic', ['cluster_name', 'group', 'topic']);
  const latest = gauge('kafka_partition_latest_offset', 'Log-end offset of the partition', ['cluster_name', 'topic', 'partition']);
  const earliest = gauge('kafka_partition_earliest_offset', 'Log-start offset of the partition', ['cluster_name', 'topic', 'partition']);
  const status = gauge('pipewright_consumergroup_status', "Status of the group by Burrow's rules: 1 OK, 2 WARN, 3 ERR (a partition in STOP, STALL or REWIND)", ['group']);
  const partitionStatus = gauge('pipewright_consumergroup_partition_status', "Status of a partition of the group by Burrow's rules: 1 OK, 2 WARN, 4 STOP, 5 STALL, 6 REWIND", [
    'group',
    'topic',
    'partition',
  ]);
  const dlqDepth = gauge('pipewright_dlq_depth', 'Messages in a DLQ topic (log-end minus log-start offset, summed over partitions)', ['topic']);
  const all = [offset, partitionLag, lagSeconds, maxLag, maxLagSeconds, sumLag, topicSumLag, latest, earliest, status, partitionStatus, dlqDepth];

  async function fill(): Promise<void> {
    const snap = await lag.snapshot();
    // From here to the end nothing waits: every gauge changes at once.
    for (const g of all) g.reset();
    const cluster_name = clusterName;
    for (const g of snap.groups) {
      const group = g.group;
      maxLag.set({ cluster_name, group }, g.maxLag);
      maxLagSeconds.set({ cluster_name, group }, g.maxLagSeconds);
      sumLag.set({ cluster_name, group }, g.total);
      status.set({ group }, STATUS_NUMBER[g.status]);
      const byTopic = new Map<string, number>();
      for (const p of g.partitions) {
        const labels = { cluster_name, group, topic: p.topic, partition: String(p.partition) };
        offset.set(labels, p.committed);
        partitionLag.set(labels, p.lag);
        lagSeconds.set(labels, p.lagSeconds);
        partitionStatus.set({ group, topic: p.topic, partition: String(p.partition) }, STATUS_NUMBER[p.status]);
        byTopic.set(p.topic, (byTopic.get(p.topic) ?? 0) + p.lag);
      }
      for (const [topic, sum] of byTopic) topicSumLag.set({ cluster_name, group, topic }, sum);
    }
    for (const p of lag.partitionEnds()) {
      const labels = { cluster_name, topic: p.topic, partition: String(p.partition) };
      latest.set(labels, p.end);
      earliest.set(labels, p.start);
    }
    const ends = new Map(lag.topicEnds().map((t) => [t.topic, t]));
    for (const topic of DLQ_TOPICS) {
      const t = ends.get(topic);
      if (t) dlqDepth.set({ topic }, t.end - t.start);
    }
  }
}
