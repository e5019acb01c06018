// The SMTP sink of e2e/lib/smtp-sink.mjs with this suite's packages, and a test CA with a
// certificate for 127.0.0.1 (npm `selfsigned`) for the STARTTLS tests.

import { simpleParser } from 'mailparser';
import selfsigned from 'selfsigned';
import { SMTPServer } from 'smtp-server';

import { linksIn, startSinkWith } from '../../lib/smtp-sink.mjs';

export { linksIn };

/** Starts a sink; see e2e/lib/smtp-sink.mjs for the options. */
export function startSink(options) {
  return startSinkWith({ SMTPServer, simpleParser }, options);
}

/**
 * A CA and a server certificate it signed for 127.0.0.1 and localhost (EC P-256, valid for
 * a day). Returns { caCert, key, cert } as PEM.
 */
export async function testCertificates() {
  const day = 24 * 3600 * 1000;
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + day);
  const ca = await selfsigned.generate([{ name: 'commonName', value: 'Tessera test CA' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const leaf = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  return { caCert: ca.cert, key: leaf.private, cert: leaf.cert };
}
