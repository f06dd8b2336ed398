#!/bin/bash
# oci-image.sh: add one image (one distro, one arch) to an OCI layout with
# umoci, under the reference REF; prints the manifest digest.
#
#   oci-image.sh LAYOUT REF DISTRO ARCH PREFIX
#
# PREFIX is what docker/rootfs.sh printed (PREFIX.rootfs.tar is the single
# layer, PREFIX.env has VERSION and PACKAGES). Environment: SOURCE_DATE_EPOCH,
# RECLAIM_VERSION, IMAGE_REVISION, IMAGE_SOURCE.
#
# Invariants:
# - Every timestamp (config created, history) is SOURCE_DATE_EPOCH and every
#   other value comes from the arguments and the environment, so the same
#   rootfs tar and environment give the same manifest digest (the layer is
#   gzip-compressed by umoci, deterministically).
# - The labels (image_labels) are the ones check-images expects; the
#   config carries no arm64 variant (umoci cannot set it): the index does.
set -eu
. "$(dirname "$0")/lib.sh"

layout=${1:?usage: oci-image.sh LAYOUT REF DISTRO ARCH PREFIX}
ref=${2:?} distro=${3:?} arch=${4:?} prefix=${5:?}
: "${SOURCE_DATE_EPOCH:?}" "${RECLAIM_VERSION:?}" "${IMAGE_REVISION:?}" "${IMAGE_SOURCE:?}"
need umoci jq
[ -f "$prefix.rootfs.tar" ] || die "no rootfs tar $prefix.rootfs.tar"
# shellcheck disable=SC1090,SC1091 # VERSION=, PACKAGES= written by rootfs.sh
. "$prefix.env"

created=$(image_created)
label_args=()
while IFS= read -r l; do label_args+=(--config.label "$l"); done < <(image_labels "$distro" "$VERSION" "$PACKAGES")

[ -f "$layout/index.json" ] || umoci init --layout "$layout"
umoci new --image "$layout:$ref"
umoci raw add-layer --image "$layout:$ref" --history.created "$created" \
	--history.created_by "docker/rootfs.sh $distro $arch (mmdebstrap minbase, slim, luajit-reclaim $VERSION)" \
	"$prefix.rootfs.tar"
umoci config --image "$layout:$ref" --no-history --created "$created" \
	--architecture "$arch" --os linux \
	--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	--config.cmd luajit "${label_args[@]}"
jq -r --arg r "$ref" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r) | .digest' \
	"$layout/index.json"
