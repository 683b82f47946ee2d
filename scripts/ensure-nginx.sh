#!/usr/bin/env bash
# Makes sure nginx is installed for test/proxy/nginx.test.ts (grpc_pass to grpc-ts servers):
# when it is missing, installs Debian's nginx-light (else nginx) with apt-get. The package's
# service is kept from starting (policy-rc.d): the test runs its own nginx in a temp dir.
# Never fails the build: without apt-get, root or network, it says so and the test skips.
set -uo pipefail

find_nginx() {
  command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }
}

if existing=$(find_nginx); then
  echo "ensure-nginx: found $existing ($("$existing" -v 2>&1))"
  exit 0
fi

skip() {
  echo "ensure-nginx: $1; the nginx proxy tests will be skipped" >&2
  exit 0
}

command -v apt-get >/dev/null 2>&1 || skip "nginx is missing and there is no apt-get"

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo -n); else skip "nginx is missing and installing it needs root"; fi
fi

# Debian starts a package's service on install unless policy-rc.d says no (101); an nginx
# daemon on port 80 is not wanted here. Docker images usually have one already.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null && "${sudo[@]}" chmod 755 "$policy"
  trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq || skip "apt-get update failed (no network?)"
for package in nginx-light nginx; do
  if "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$package"; then
    installed=$(find_nginx) || skip "installed $package but found no nginx binary"
    echo "ensure-nginx: installed $package: $("$installed" -v 2>&1)"
    exit 0
  fi
done
skip "apt-get could not install nginx-light or nginx"
