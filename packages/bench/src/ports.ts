/** Free local ports for the bench's daemons and replays. */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

function tcpPort(port: number): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(0));
    server.listen(port, '127.0.0.1', () => {
      const { port: got } = server.address() as { port: number };
      server.close(() => resolve(got));
    });
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** Whether `port` is free for both TCP and UDP on 127.0.0.1 now. */
export async function portFree(port: number): Promise<boolean> {
  return (await tcpPort(port)) === port && (await udpFree(port));
}

/**
 * A port that was free for both TCP and UDP on 127.0.0.1 a moment ago (CA uses the same number for both).
 * Tries a few candidates before giving up.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await tcpPort(0);
    if (port !== 0 && (await udpFree(port))) return port;
  }
  throw new Error('no free TCP+UDP port on 127.0.0.1');
}
