"""Sigstore: sign in-toto statements (keyless or with a local key pair), verify bundles against
a policy, store and find them in an OCI registry. See docs/supply-chain.md.

Modules: `keyless` (Fulcio + Rekor through sigstore-python), `keys` (a local P-256 key pair),
`verify` (a bundle against an identity policy or a named public key), `trust` (trusted roots
and client trust configs), `bundle` (the bundle JSON itself), `oci` (OCI 1.1 referrers with the
fallback tag index, and cosign's classic `.sig`/`.att` tags).
"""
