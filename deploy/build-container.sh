#!/usr/bin/env bash
# Build the container image from a bundle and run ingest and ask inside it with no network,
# the way it works on a machine where no registry is reachable (see docs/deploy.md):
#
#   deploy/build-container.sh BUNDLE [IMAGE]       # IMAGE: localgpt by default
#
# The base is a minimal Linux with only Python: Debian bookworm minbase with python3, made with
# debootstrap once per machine (deploy/base-rootfs.sh keeps it in ~/.cache/localgpt/rootfs) and
# imported into podman's storage once (BASE_IMAGE=... uses another); the image is built with buildah
# with no network (unshare -n), and the check runs in `unshare -n` on the sample documents.
# Needs root, debootstrap, podman and buildah (apt-get install debootstrap podman buildah).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -ge 1 ]] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
bundle=$(cd "$1" && pwd)
image=${2:-localgpt}
base=${BASE_IMAGE:-localhost/localgpt-base:bookworm}
started=$SECONDS
took() { echo "    $1: $((SECONDS - t))s" >&2; }

for tool in buildah podman; do command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install $tool" >&2; exit 1; }; done

t=$SECONDS
if [[ -z "${BASE_IMAGE:-}" ]] && ! podman image exists "$base"; then
    echo "[1/3] base image $base: Debian bookworm minbase with python3 (deploy/base-rootfs.sh)" >&2
    rootfs_tar=$("$repo/deploy/base-rootfs.sh")
    podman import "$rootfs_tar" "$base" >/dev/null
    took "base image"
else
    echo "[1/3] base image $base: present" >&2
fi

t=$SECONDS
echo "[2/3] buildah bud in unshare -n: no network during the build" >&2
unshare -n buildah bud --isolation chroot --build-arg BASE="$base" -t "$image" -f "$repo/deploy/Containerfile" "$bundle" >&2
took "image build"

t=$SECONDS
echo "[3/3] ingest and ask inside the image, with no network (unshare -n)" >&2
work=$(mktemp -d)
mkdir -p "$work/index"
cp -R "$repo/source_documents" "$work/documents"
chmod -R a+rX "$work/documents"   # the image's user reads them, whatever this umask (its folder stays 0700)
container=$(buildah from -q "$image")
trap 'buildah rm "$container" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
chown "$(buildah run --isolation chroot "$container" -- id -u)" "$work/index"   # the image's non-root user
chmod 700 "$work/index"
# Mounted beside the image's VOLUMEs, not on them: buildah run also mounts an anonymous volume on each
# VOLUME path, in no fixed order, and about one run in two hid the bind mount (an empty /data/documents).
inside() {
    unshare -n buildah run --isolation chroot \
        -v "$work/documents:/check/documents:ro" -v "$work/index:/check/index" "$container" -- "$@"
}
inside /opt/localgpt/bin/localgpt ingest --quiet --source-dir /check/documents --db /check/index
inside /opt/localgpt/bin/localgpt ask --db /check/index "What is the notice period in the lease?"
took "ingest and ask"
echo "Image $image: built and checked offline in $((SECONDS - started))s ($(podman image inspect "$image" --format '{{.Size}}' | numfmt --to=iec))." >&2
