// A throw-away serving certificate for 127.0.0.1, made with openssl at test time: a self-signed CA-capable cert
// whose PEM doubles as the kubeconfig's certificate-authority-data, and an admin client certificate it signs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServingCert {
  key: string;
  cert: string;
  /** A client certificate signed by `cert` for `kubernetes-admin` (O=system:masters), as kubeadm's admin.conf has. */
  clientKey: string;
  clientCert: string;
}

export function makeServingCert(dir: string): ServingCert {
  const key = join(dir, 'apiserver.key');
  const cert = join(dir, 'apiserver.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=kube-apiserver',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const ckey = join(dir, 'admin.key');
  const csr = join(dir, 'admin.csr');
  const ccert = join(dir, 'admin.crt');
  const quiet = { stdio: ['ignore', 'ignore', 'pipe'] as ('ignore' | 'pipe')[] };
  execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/O=system:masters/CN=kubernetes-admin',
      '-keyout',
      ckey,
      '-out',
      csr,
    ],
    quiet,
  );
  execFileSync(
    'openssl',
    ['x509', '-req', '-in', csr, '-CA', cert, '-CAkey', key, '-CAcreateserial', '-days', '2', '-out', ccert],
    quiet,
  );
  return {
    key: readFileSync(key, 'utf8'),
    cert: readFileSync(cert, 'utf8'),
    clientKey: readFileSync(ckey, 'utf8'),
    clientCert: readFileSync(ccert, 'utf8'),
  };
}
