#!/usr/bin/env node
// Signs an in-toto statement keyless with npm @sigstore/sign (sigstore-js): an ephemeral key,
// a certificate from Fulcio for the OIDC token, a dsse entry in Rekor, a v0.3 bundle.
// An implementation independent of devops and sigstore-python. Used by tests/supplychain.
//
//   node sign.js --fulcio URL --rekor URL --token-file T --statement S.json [--payload-type TYPE]
//
// Prints the bundle JSON on stdout; exits 1 (message on stderr) when signing fails.
'use strict';

const fs = require('fs');
const { bundleToJSON } = require('@sigstore/bundle');
const { DSSEBundleBuilder, FulcioSigner, RekorWitness } = require('@sigstore/sign');

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument ${argv[i]}`);
    args[argv[i].slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = argv[i + 1];
  }
  for (const required of ['fulcio', 'rekor', 'tokenFile', 'statement']) {
    if (!args[required]) throw new Error(`--${required.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is required`);
  }
  return args;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`sign.js: ${e.message}\n`);
    process.exit(2);
  }
  const token = fs.readFileSync(args.tokenFile, 'utf8').trim();
  const signer = new FulcioSigner({
    fulcioBaseURL: args.fulcio,
    identityProvider: { getToken: async () => token },
  });
  const builder = new DSSEBundleBuilder({
    signer,
    witnesses: [new RekorWitness({ rekorBaseURL: args.rekor })],
  });
  const bundle = await builder.create({
    data: fs.readFileSync(args.statement),
    type: args.payloadType || 'application/vnd.in-toto+json',
  });
  process.stdout.write(`${JSON.stringify(bundleToJSON(bundle))}\n`);
}

main().catch((e) => {
  process.stderr.write(`sign.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
