// What the k8s tests ask of every started service, however it was started (from the image's
// file layout, as a container, as a pod of podman kube play).
import assert from 'node:assert/strict';
import { listServices, waitServing } from '@pipewright/testkit';

/**
 * Waits until the service at `address` reports SERVING (failing early with `isDead`'s reason),
 * then checks that reflection lists the health service and its own API.
 * @param {string} service
 * @param {string} address
 * @param {() => string | undefined} isDead
 */
export async function assertServesWithReflection(service, address, isDead) {
  await waitServing(address, { timeoutMs: 90_000, isDead });
  const names = await listServices(address);
  assert.ok(names.includes('grpc.health.v1.Health'), `${service}: health service`);
  assert.ok(names.some((n) => n.startsWith('pipewright.')), `${service}: reflection lists its API (${names.join(', ')})`);
}
