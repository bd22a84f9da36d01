#!/usr/bin/env bash
# The raw OpenSSL cost of the public-key operations JWE seal is built on, to compare with
# sealhook-micro's BM_JweSeal / BM_Raw* figures:
#   rsa2048, rsa4096  "verify/s" is the public-key operation (what RSA-OAEP encryption costs;
#                     `openssl speed` has no RSA encrypt column in 3.0)
#   ecdhx25519        X25519 derive (Z) alone; ECDH-ES also needs a fresh ephemeral key
#   ecdhp256          P-256 derive alone (same remark)
#   aes-256-gcm       the content encryption (A256GCM), bytes/s per block size
# OpenSSL 3.0 spells the ECDH tests ecdhx25519/ecdhp256; `-evp X25519` is refused
# ("X25519 is an unknown cipher or digest": -evp takes ciphers and digests only).
# Usage: bench/openssl-speed.sh [seconds per test, default 3]
set -euo pipefail
secs="${1:-3}"
command -v openssl >/dev/null || { echo "openssl not found (apt-get install openssl)" >&2; exit 1; }

echo "# $(openssl version)  ($(nproc) CPUs, ${secs}s per test, one process)"
run() { openssl speed -seconds "$secs" "$@" 2>/dev/null; }

echo "## RSA (public-key op = verify/s)"
run rsa2048 rsa4096 | grep -E '^ *(sign|rsa )'
echo "## ECDH derive"
run ecdhx25519 ecdhp256 | grep -E '^ +(op +op/s|[0-9]+ +bits ecdh)'
echo "## AES-256-GCM (bytes/s in thousands, by block size)"
run -evp aes-256-gcm | grep -E '^(type|AES-256-GCM|aes-256-gcm)'
