// test/helpers/http-get: GET / of a published port, retried while the container's httpd comes up.
import * as http from 'node:http';

/** GET / on ip:port; retried (100 ms apart) while the server is not up yet (refused, reset, timeout). */
export async function fetchText(ip: string, port: number, tries = 50): Promise<string> {
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
      if (i >= tries) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
