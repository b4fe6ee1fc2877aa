#!/usr/bin/env bash
# Throwaway TLS material for a test broker of scripts/kafka.sh (secure modes only):
#
#   bash scripts/kafka/make-tls.sh <folder>
#
# writes into <folder> (created, mode 700): ca.pem (what clients trust), ca.key, server.p12 (the
# broker's key and certificate, signed by that CA, for 127.0.0.1 and localhost) and
# keystore-password. Does nothing when server.p12 already exists. The folder lives inside the
# broker's own state folder, which git ignores: nothing here is a secret worth keeping.
set -euo pipefail

out="${1:?usage: make-tls.sh <folder>}"
[ -f "$out/server.p12" ] && exit 0
command -v openssl >/dev/null || {
  echo "kafka: openssl is not on PATH (it makes the test broker's certificates)" >&2
  exit 1
}
mkdir -p "$out"
chmod 700 "$out"
tmp="$(mktemp -d "$out/.make.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# EC keys: generated in milliseconds, and both Java and Node accept them.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
  -subj "/CN=Ensemble test Kafka CA" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=127.0.0.1" -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$tmp/server.ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days 365 -extfile "$tmp/server.ext" -out "$tmp/server.pem" 2>/dev/null
head -c 18 /dev/urandom | base64 | tr -d '+/=' >"$tmp/keystore-password"
openssl pkcs12 -export -name kafka -inkey "$tmp/server.key" -in "$tmp/server.pem" -certfile "$tmp/ca.pem" \
  -passout "file:$tmp/keystore-password" -out "$tmp/server.p12"

mv "$tmp/ca.pem" "$tmp/ca.key" "$tmp/keystore-password" "$out/"
mv "$tmp/server.p12" "$out/" # last: its presence means the folder is complete
