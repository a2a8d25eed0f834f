#!/usr/bin/env bash
# Installs the system packages the tests need when they are missing (Debian/Ubuntu, as root):
# ffmpeg (probe, thumbnails, fixtures), chromium (end-to-end tests), OpenStack Swift + memcached
# (the real S3 server the integration tests run against). Prints what is missing otherwise.
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
[ -x /usr/bin/chromium ] || need+=(chromium)
for b in swift-proxy-server swift-object-server swift-container-server swift-account-server memcached; do
  [ -x "/usr/bin/$b" ] || need+=(swift swift-proxy swift-object swift-container swift-account python3-swift memcached)
done
[ ${#need[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${need[@]}" | sort -u | tr '\n' ' ')

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing: $pkgs" >&2
  echo "system-deps: install them (Debian/Ubuntu: sudo apt-get install $pkgs), or run the tests against" >&2
  echo "            your own S3 server with S3_TEST_ENDPOINT (see README, Development)." >&2
  exit 1
fi

echo "system-deps: installing $pkgs"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# Keep the packages' own services (swift, memcached) from starting on their default ports.
policy_added=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
  policy_added=1
fi
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $pkgs
[ "$policy_added" = 1 ] && rm -f /usr/sbin/policy-rc.d
exit 0
