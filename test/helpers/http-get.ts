// test/helpers/http-get: GET / of a published port, retried while the container's httpd comes up.
import * as http from 'node:http';

/** GET / on ip:port; retried (100 ms apart) while the server is not up yet (refused, reset, timeout): `tries` more
 *  times when given (0: it must answer at once), else for up to a minute (a container's httpd on a loaded machine
 *  can take more than the 5 s that 50 tries were). */
export async function fetchText(ip: string, port: number, tries?: number): Promise<string> {
  const end = Date.now() + 60_000;
  for (let i = 0; ; i++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const req = http.get({ host: ip, port, path: '/', timeout: 2000, agent: false }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => { body += d.toString(); });
          res.on('end', () => resolve(body));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
    } catch (e) {
      if (tries !== undefined ? i >= tries : Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
