#!/usr/bin/env node
// A local Fulcio (CA + CT log) and Rekor (v1 transparency log) for tests, served over plain
// HTTP on free loopback ports. The request handlers are @sigstore/mock's own (the ones
// sigstore-js tests itself with, normally wired into `nock`); this file only puts them
// behind real sockets and prints, as one JSON line on stdout, the URLs and the trust material
// a client needs: a trusted root (protobuf-specs TrustedRoot JSON) and a client trust config
// (ClientTrustConfig: trusted root + signing config) that sigstore-python and sigstore-js read.
//
// Two adaptations, both to accept what real clients send to the real Fulcio:
// - sigstore-python sends the OIDC token in `Authorization: Bearer` and a base64 PEM CSR in
//   `certificateSigningRequest` (Fulcio's v2 REST form); the mock reads the token from
//   `credentials.oidcIdentityToken` and a PEM CSR. The body is rewritten to that shape.
// - real Fulcio puts `https://github.com/<job_workflow_ref>` in the SAN of a GitHub Actions
//   certificate (fulcio docs/oidc.md, "GitHub"); the mock takes one claim verbatim. A claim
//   `x-mock-san` carrying that value (or `email`, else `sub`) is added before the mock reads it.
// - real Rekor turns a proposed `dsse` 0.0.1 entry (envelope + verifiers) into its canonical
//   body (envelopeHash, payloadHash, signatures with their verifier) after checking every
//   signature (rekor pkg/types/dsse/v0.0.1/entry.go); the mock logs the proposed entry as it
//   came, which verifiers rightly refuse. The same transformation is done here.
// - the mock's inclusion proof is for a log of one entry (index 0, no audit path), which
//   protobuf JSON writers (@sigstore/bundle) serialise without `logIndex` and `hashes` (proto3
//   omits defaults) and sigstore-python 4.5 then refuses as a malformed bundle. A real log is
//   never that small: the proof is rewritten for a two-entry log (a sibling leaf, a real audit
//   path) with a checkpoint signed again by the log key, so verifiers check a real Merkle path.
// The mock does not verify the token's signature or the CSR's proof of possession (it says so).
//
// Stops on SIGTERM/SIGINT or when stdin closes (the test process went away).
'use strict';

const crypto = require('crypto');
const http = require('http');
const mock = require('@sigstore/mock');

const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

function b64(buffer) {
  return Buffer.from(buffer).toString('base64');
}

function b64url(text) {
  return Buffer.from(text).toString('base64url');
}

function decodeJwtPayload(token) {
  const parts = String(token).split('.');
  if (parts.length < 2) throw new Error('the OIDC token is not a JWT');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

// The SAN real Fulcio would issue for these claims.
function sanFor(claims) {
  if (claims.iss === GITHUB_ISSUER && claims.job_workflow_ref) {
    return `https://github.com/${claims.job_workflow_ref}`;
  }
  return claims.email || claims.sub;
}

function fulcioBody(raw, headers) {
  const body = JSON.parse(raw || '{}');
  let token = body.credentials && body.credentials.oidcIdentityToken;
  const auth = headers.authorization || '';
  if (!token && auth.toLowerCase().startsWith('bearer ')) token = auth.slice(7).trim();
  if (!token) throw new Error('no OIDC token (credentials.oidcIdentityToken or Authorization: Bearer)');
  const claims = decodeJwtPayload(token);
  claims['x-mock-san'] = sanFor(claims);
  // An unsigned copy with the extra claim: the mock decodes, it never verifies.
  const rewritten = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.`;
  const out = { ...body, credentials: { oidcIdentityToken: rewritten } };
  const csr = body.certificateSigningRequest;
  if (csr && !String(csr).startsWith('-----')) {
    out.certificateSigningRequest = Buffer.from(csr, 'base64').toString('utf8');
  }
  return JSON.stringify(out);
}

function pae(type, payload) {
  const t = Buffer.from(type, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${payload.length} `), payload]);
}

function sha256hex(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

function rekorBody(raw) {
  const entry = JSON.parse(raw);
  if (entry.kind !== 'dsse' || entry.apiVersion !== '0.0.1' || !entry.spec || !entry.spec.proposedContent) {
    return raw;
  }
  const { envelope, verifiers } = entry.spec.proposedContent;
  const env = JSON.parse(envelope);
  const payload = Buffer.from(env.payload, 'base64');
  // Rekor stores each verifier in its canonical PEM form (64-column lines, one trailing newline).
  const keys = (verifiers || []).map((v) => {
    const pem = Buffer.from(v, 'base64').toString('utf8');
    if (pem.includes('CERTIFICATE')) {
      const cert = new crypto.X509Certificate(pem);
      return { b64: b64(cert.toString()), key: cert.publicKey };
    }
    const key = crypto.createPublicKey(pem);
    return { b64: b64(key.export({ format: 'pem', type: 'spki' })), key };
  });
  const signatures = env.signatures.map((s) => {
    const sig = Buffer.from(s.sig, 'base64');
    const found = keys.find((k) => crypto.verify('sha256', pae(env.payloadType, payload), k.key, sig));
    if (!found) throw new Error('all signatures must have a key that verifies it');
    return { signature: s.sig, verifier: found.b64 };
  });
  signatures.sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  return JSON.stringify({
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256hex(Buffer.from(envelope, 'utf8')) },
      payloadHash: { algorithm: 'sha256', value: sha256hex(payload) },
      signatures,
    },
  });
}

// A two-leaf tree: a random sibling at index 0, this entry at index 1 (RFC 6962 hashing).
function twoLeafProof(entry, tlogKeys, host) {
  const body = Buffer.from(entry.body, 'base64');
  const leaf = crypto.createHash('sha256').update(Buffer.from([0])).update(body).digest();
  const sibling = crypto.randomBytes(32);
  const root = crypto.createHash('sha256').update(Buffer.from([1])).update(sibling).update(leaf).digest();
  const treeID = crypto.randomInt(2 ** 48 - 1);
  const note = [`${host} - ${treeID}`, '2', root.toString('base64'), `Timestamp: ${entry.integratedTime * 1_000_000_000}`, ''].join('\n');
  const sig = crypto.sign('sha256', Buffer.from(note), tlogKeys.privateKey);
  const keyHint = crypto.createHash('sha256').update(spki(tlogKeys.publicKey)).digest().subarray(0, 4);
  const checkpoint = [note, `\u2014 ${host} ${Buffer.concat([keyHint, sig]).toString('base64')}`, ''].join('\n');
  return { logIndex: 1, treeSize: 2, rootHash: root.toString('hex'), hashes: [sibling.toString('hex')], checkpoint };
}

function listen(route) {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const match = route.handlers.find((h) => req.method === 'POST' && req.url.split('?')[0] === h.path);
        if (!match) {
          res.writeHead(404, { 'Content-Type': 'text/plain' });
          res.end(`no such endpoint: ${req.method} ${req.url}\n`);
          return;
        }
        try {
          const raw = Buffer.concat(chunks).toString('utf8');
          const body = match.adapt ? match.adapt(raw, req.headers) : raw;
          const { statusCode, response, contentType } = await match.fn(body);
          res.writeHead(statusCode, { 'Content-Type': contentType || 'text/plain' });
          res.end(response);
        } catch (e) {
          res.writeHead(400, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ code: 400, message: String(e && e.message ? e.message : e) }));
        }
      });
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function keyPair() {
  return crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function spki(publicKey) {
  return publicKey.export({ format: 'der', type: 'spki' });
}

async function main() {
  const start = new Date(Date.now() - 60 * 1000).toISOString();
  const fulcioRoute = { handlers: [] };
  const rekorRoute = { handlers: [] };
  const fulcioServer = await listen(fulcioRoute);
  const rekorServer = await listen(rekorRoute);
  const fulcioURL = `http://127.0.0.1:${fulcioServer.address().port}`;
  const rekorURL = `http://127.0.0.1:${rekorServer.address().port}`;

  const caKeys = keyPair();
  const ctKeys = keyPair();
  const tlogKeys = keyPair();
  const ctlog = await mock.initializeCTLog(ctKeys);
  const ca = await mock.initializeCA(caKeys, ctlog);
  const tlog = await mock.initializeTLog(rekorURL, tlogKeys);

  const fulcio = mock.fulcioHandler(ca, { strict: true, subjectClaim: 'x-mock-san' });
  fulcioRoute.handlers.push({ path: fulcio.path, fn: fulcio.fn, adapt: fulcioBody });
  const rekor = mock.rekorHandler(tlog, { strict: true });
  const rekorHost = new URL(rekorURL).host;
  const rekorFn = async (body) => {
    const result = await rekor.fn(body);
    if (result.statusCode !== 201) return result;
    const entries = JSON.parse(result.response);
    for (const entry of Object.values(entries)) {
      entry.verification.inclusionProof = twoLeafProof(entry, tlogKeys, rekorHost);
    }
    return { ...result, response: JSON.stringify(entries) };
  };
  rekorRoute.handlers.push({ path: rekor.path, fn: rekorFn, adapt: rekorBody });

  const tlogKey = spki(tlogKeys.publicKey);
  const ctKey = spki(ctKeys.publicKey);
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: rekorURL,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(tlogKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: b64(crypto.createHash('sha256').update(tlogKey).digest()) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: fulcioURL,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: `${fulcioURL}/ct`,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(ctKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: b64(crypto.createHash('sha256').update(ctKey).digest()) },
      },
    ],
    timestampAuthorities: [],
  };
  const service = (url) => ({ url, majorApiVersion: 1, validFor: { start }, operator: 'sigstore.mock' });
  const signingConfig = {
    mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    caUrls: [service(fulcioURL)],
    oidcUrls: [],
    rekorTlogUrls: [service(rekorURL)],
    tsaUrls: [],
    rekorTlogConfig: { selector: 'ANY' },
    tsaConfig: { selector: 'ANY' },
  };
  const trustConfig = {
    mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
    trustedRoot,
    signingConfig,
  };
  process.stdout.write(`${JSON.stringify({ fulcioURL, rekorURL, trustedRoot, signingConfig, trustConfig })}\n`);

  const stop = () => {
    fulcioServer.close();
    rekorServer.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}

main().catch((e) => {
  process.stderr.write(`mock-server: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
