#!/usr/bin/env node
// Verifies a Sigstore bundle with npm @sigstore/verify (sigstore-js), an implementation
// independent of devops and sigstore-python. Used by tests/supplychain.
//
//   node verify.js --bundle B.json --trusted-root R.json [--identity I --issuer S]
//                  [--key PUB.pem --key-hint H] [--artifact FILE]
//
// --identity is matched exactly (anchored; @sigstore/verify itself takes a regular expression).
// With --key the bundle must name the key by --key-hint (a public-key bundle; no transparency
// log entry or timestamp is required then, as for a key pair used offline).
// Prints one JSON object: {"verified": true, "payloadType", "payload" (base64), "identity"} and
// exits 0, or {"verified": false, "code", "message"} and exits 1; 2 on bad usage.
'use strict';

const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i];
    const value = argv[i + 1];
    if (!name.startsWith('--') || value === undefined) throw new Error(`bad argument ${name}`);
    const key = name.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    args[key] = value;
  }
  if (!args.bundle || !args.trustedRoot) throw new Error('--bundle and --trusted-root are required');
  if (args.key && !args.keyHint) throw new Error('--key needs --key-hint');
  return args;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`verify.js: ${e.message}\n`);
    process.exit(2);
  }
  try {
    const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(args.bundle, 'utf8')));
    const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(args.trustedRoot, 'utf8')));
    const keys = {};
    if (args.key) {
      const der = crypto.createPublicKey(fs.readFileSync(args.key, 'utf8')).export({ format: 'der', type: 'spki' });
      keys[args.keyHint] = { rawBytes: der, keyDetails: 'PKIX_ECDSA_P256_SHA_256' };
    }
    const options = args.key ? { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 } : {};
    const verifier = new Verifier(toTrustMaterial(root, keys), options);
    const artifact = args.artifact ? fs.readFileSync(args.artifact) : undefined;
    const policy = {};
    if (args.identity) policy.subjectAlternativeName = `^${escapeRegExp(args.identity)}$`;
    if (args.issuer) policy.extensions = { issuer: args.issuer };
    if (!args.key && !args.identity) throw Object.assign(new Error('keyless verification needs --identity'), { code: 'USAGE' });
    const signer = verifier.verify(toSignedEntity(bundle, artifact), policy);
    const identity = signer.identity
      ? { subjectAlternativeName: signer.identity.subjectAlternativeName, issuer: (signer.identity.extensions || {}).issuer }
      : null;
    const out = { verified: true, identity };
    if (bundle.content.$case === 'dsseEnvelope') {
      out.payloadType = bundle.content.dsseEnvelope.payloadType;
      out.payload = Buffer.from(bundle.content.dsseEnvelope.payload).toString('base64');
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ verified: false, code: e.code || e.name, message: String(e.message) })}\n`);
    process.exit(1);
  }
}

main();
