// Local servers a test runs (HTTP endpoints, relays).
import type { Server } from 'node:net';

/** Starts `server` listening on a free port of 127.0.0.1; resolves with that port. */
export function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      if (address && typeof address === 'object') resolve(address.port);
      else reject(new Error('the server is not listening on a TCP port'));
    });
  });
}
