#!/usr/bin/env bash
# A minimal Linux with only Python, as a tar: Debian bookworm from debootstrap (variant minbase) with python3
# and nothing else (no python3-venv, no libgomp1). Made once per machine and kept; prints the tar's path.
#
#   deploy/base-rootfs.sh      # the first time: root, debootstrap and Debian's mirror; then nothing
#
# The container's base (deploy/build-container.sh imports it with podman import) and the air-gapped host of
# tests/test_bundle_airgap.py. Kept in ${XDG_CACHE_HOME:-~/.cache}/localgpt/rootfs/; delete the file to make it
# again (Debian's point releases change it little). MIRROR picks the Debian mirror (debootstrap's default).
set -euo pipefail

suite=bookworm variant=minbase include=python3
cache=${XDG_CACHE_HOME:-$HOME/.cache}/localgpt/rootfs
tar=$cache/$suite-$variant-$include.tar

if [[ -f "$tar" ]]; then echo "$tar"; exit 0; fi
[[ $(id -u) == 0 ]] || { echo "base-rootfs: debootstrap needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "base-rootfs: needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }

mkdir -p "$cache"
work=$(mktemp -d "$cache/.make-XXXXXX")
trap 'rm -rf "$work"' EXIT
started=$SECONDS
echo "base-rootfs: debootstrap --variant=$variant --include=$include $suite (once; about a minute)" >&2
debootstrap --variant="$variant" --include="$include" "$suite" "$work/root" ${MIRROR:+"$MIRROR"} >"$work/log" 2>&1 ||
    { tail -20 "$work/log" >&2; echo "base-rootfs: debootstrap failed (log above)" >&2; exit 1; }
rm -rf "$work/root"/var/cache/apt/archives/*.deb "$work/root"/var/lib/apt/lists/*
tar -C "$work/root" -cf "$work/rootfs.tar" .
mv "$work/rootfs.tar" "$tar"   # whole or not at all
echo "base-rootfs: $tar ($(du -h "$tar" | cut -f1)) in $((SECONDS - started))s" >&2
echo "$tar"
