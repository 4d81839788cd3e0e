#!/usr/bin/env node
// Attaches a Sigstore bundle to an image with npm @sigstore/oci, as actions/attest does (the same
// call and annotations): an OCI 1.1 referrer manifest, plus the fallback tag index when the
// registry has no referrers API. An implementation independent of devops. Used by tests/supplychain.
//
//   node attach.js --image 127.0.0.1:5000/ns/app --digest sha256:<hex> --bundle B.json --predicate-type T
//
// @sigstore/oci speaks plain HTTP to localhost/127.0.0.1 only. Prints the referrer descriptor.
'use strict';

const fs = require('fs');
const { attachArtifactToImage } = require('@sigstore/oci');

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument ${argv[i]}`);
    args[argv[i].slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = argv[i + 1];
  }
  for (const required of ['image', 'digest', 'bundle', 'predicateType']) {
    if (!args[required]) throw new Error(`--${required} is required`);
  }
  return args;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`attach.js: ${e.message}\n`);
    process.exit(2);
  }
  const artifact = fs.readFileSync(args.bundle);
  const bundle = JSON.parse(artifact.toString('utf8'));
  const descriptor = await attachArtifactToImage({
    imageName: args.image,
    imageDigest: args.digest,
    artifact,
    mediaType: bundle.mediaType,
    annotations: {
      'dev.sigstore.bundle.content': bundle.dsseEnvelope ? 'dsse-envelope' : 'message-signature',
      'dev.sigstore.bundle.predicateType': args.predicateType,
    },
    credentials: undefined, // the loopback registry has no auth
  });
  process.stdout.write(`${JSON.stringify(descriptor)}\n`);
}

main().catch((e) => {
  process.stderr.write(`attach.js: ${e && e.cause ? `${e.message}: ${e.cause}` : e}\n`);
  process.exit(1);
});
