#!/usr/bin/env bash
# Installs the Debian packages the Python build needs (ltfatpy compiles against
# FFTW, LAPACK and BLAS with CMake) when they are missing. As root it runs
# apt-get; otherwise it stops and names the command to run.
set -euo pipefail
packages=(libfftw3-dev liblapack-dev libblas-dev cmake "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "error: missing system packages ${missing[*]} and no apt-get here; install their equivalents first." >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing system packages: ${missing[*]}" >&2
  echo "run:   sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]} (apt-get; a line per package downloaded)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 "${missing[@]}" \
  > >(grep --line-buffered -E '^(Get:|Need to get|After this operation)' || true)
