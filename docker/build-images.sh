#!/bin/bash
# build-images.sh: the container images (make images).
#
#   build-images.sh OUT
#
# Environment (from docker/images.mk): IMG_REPO (build/apt-repo),
# SOURCE_DATE_EPOCH, RECLAIM_VERSION, IMAGE_NAME, IMAGE_REVISION, IMAGE_SOURCE;
# optional IMAGES_DISTROS, IMAGES_ARCHES (see docker/lib.sh), IMAGES_JOBS
# (jobs at once, default 2).
#
# Output (OUT = build/images):
#   OUT/oci/                  OCI image layout: per distro one multi-platform
#                             index (linux/amd64, linux/arm64/v8) tagged
#                             <RECLAIM_VERSION>-<distro>, <distro>, and `latest`
#                             (trixie); nothing else is tagged
#   OUT/archives/IMAGE_NAME_<RECLAIM_VERSION>-<distro>_<arch>.docker.tar
#                             docker-archive per distro and arch (`docker load`),
#                             with the same three (two) tags
#   OUT/digests.txt           index and manifest digests, one per line
#   OUT/rootfs-<distro>-<arch>.prefix   the cached rootfs each image was made from
#
# Steps (timed): root filesystems, cached or built, two at a time (rootfs.sh);
# the layout (oci-image.sh per image, then the indexes, written here with jq);
# the docker-archives (skopeo).
# Invariants: OUT/oci and OUT/archives are built beside and swapped in whole;
# when the rootfs tars and every label are those of the last build, the
# layout is kept as it is (OUT/.key); the index JSON is written in jq's
# compact form, so it is byte-stable.
set -eu
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2034 # read by self_cmd (lib.sh)
IMG_SELF_ARGS=("$@")

out=${1:?usage: build-images.sh OUT}
: "${IMG_REPO:?}" "${SOURCE_DATE_EPOCH:?}" "${RECLAIM_VERSION:?}" "${IMAGE_NAME:?}"
: "${IMAGE_REVISION:?}" "${IMAGE_SOURCE:?}"
export IMG_REPO SOURCE_DATE_EPOCH RECLAIM_VERSION IMAGE_REVISION IMAGE_SOURCE
need umoci skopeo jq sha256sum:coreutils mmdebstrap
need_root "mmdebstrap runs in root mode"
arch-test arm64 >/dev/null 2>&1 || case " $IMG_ARCHES " in *" arm64 "*)
	die "arm64 binaries do not run here (arch-test arm64): qemu-user-static and binfmt-support are needed" ;; esac
mkdir -p "$out"
out=$(cd "$out" && pwd)
layout=$out/oci.new

rootfs_all() {
	local d a
	pool_start "$out/logs" "${IMAGES_JOBS:-2}"
	# arm64 first: under qemu-user it takes longest.
	for a in $(printf '%s\n' $IMG_ARCHES | sort -r); do
		for d in $IMG_DISTROS; do
			pool_add "rootfs-$d-$a" sh -c '"$1" "$2" "$3" >"$4.part" && mv "$4.part" "$4"' rootfs \
				"$IMG_DIR/rootfs.sh" "$d" "$a" "$out/rootfs-$d-$a.prefix"
		done
	done
	pool_wait
}

manifests() {
	local d a
	for d in $IMG_DISTROS; do
		for a in $IMG_ARCHES; do
			"$IMG_DIR/oci-image.sh" "$layout" "$d-$a" "$d" "$a" "$(cat "$out/rootfs-$d-$a.prefix")" >/dev/null
		done
	done
	umoci gc --layout "$layout"
}

# blob_put FILE: store FILE as a blob of the layout; prints its digest.
blob_put() {
	local sum
	sum=$(sha256sum "$1" | cut -d' ' -f1)
	mv "$1" "$layout/blobs/sha256/$sum"
	echo "sha256:$sum"
}

indexes() {
	local d a t desc tmp digest entries='[]' prefix
	for d in $IMG_DISTROS; do
		tmp=$layout/index-$d.json
		echo '[]' >"$tmp.m"
		for a in $IMG_ARCHES; do
			desc=$(jq -c --arg r "$d-$a" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r)
				| del(.annotations)' "$layout/index.json")
			[ -n "$desc" ] || die "no manifest $d-$a in $layout"
			jq -c --argjson desc "$desc" --arg a "$a" \
				'. + [$desc + { platform: ({ architecture: $a, os: "linux" } + (if $a == "arm64" then { variant: "v8" } else {} end)) }]' \
				"$tmp.m" >"$tmp.n" && mv "$tmp.n" "$tmp.m"
		done
		prefix=$(cat "$out/rootfs-$d-$(set -- $IMG_ARCHES; echo "$1").prefix")
		# shellcheck disable=SC1090,SC1091
		(. "$prefix.env"; image_labels "$d" "$VERSION" "$PACKAGES") |
			jq -R -c -n '[inputs | capture("^(?<key>[^=]+)=(?<value>.*)$")] | from_entries' >"$tmp.a"
		jq -c -n --slurpfile m "$tmp.m" --slurpfile an "$tmp.a" \
			'{ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
			   manifests: $m[0], annotations: $an[0] }' >"$tmp"
		rm -f "$tmp.m" "$tmp.a"
		digest=$(blob_put "$tmp")
		for t in $(image_tags "$d"); do
			entries=$(jq -c -n --argjson e "$entries" --arg dg "$digest" --arg t "$t" \
				--argjson size "$(stat -c %s "$layout/blobs/sha256/${digest#sha256:}")" \
				'$e + [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: $dg, size: $size,
				         annotations: { "org.opencontainers.image.ref.name": $t } }]')
		done
	done
	jq -c --argjson e "$entries" '.manifests = $e' "$layout/index.json" >"$layout/index.json.new"
	mv "$layout/index.json.new" "$layout/index.json"
}

archives() {
	local d a t tags dest
	mkdir -p "$out/archives.new"
	for d in $IMG_DISTROS; do
		for a in $IMG_ARCHES; do
			tags=()
			for t in $(image_tags "$d" | tail -n +2); do tags+=(--additional-tag "$IMAGE_NAME:$t"); done
			dest=$out/archives.new/${IMAGE_NAME##*/}_$RECLAIM_VERSION-${d}_$a.docker.tar
			# shellcheck disable=SC2046 # platform_args is a word list
			skopeo copy -q $(platform_args "$a") \
				"oci:$layout:$RECLAIM_VERSION-$d" "docker-archive:$dest:$IMAGE_NAME:$RECLAIM_VERSION-$d" "${tags[@]}"
		done
	done
}

digests() {
	local d a
	for d in $IMG_DISTROS; do
		echo "$IMAGE_NAME:$RECLAIM_VERSION-$d index $(skopeo inspect --raw "oci:$layout:$RECLAIM_VERSION-$d" | sha256sum | cut -d' ' -f1 | sed 's/^/sha256:/')"
		for a in $IMG_ARCHES; do
			echo "$IMAGE_NAME:$RECLAIM_VERSION-$d $a manifest $(jq -r --arg a "$a" \
				'.manifests[] | select(.platform.architecture == $a) | .digest' \
				<(skopeo inspect --raw "oci:$layout:$RECLAIM_VERSION-$d"))"
		done
	done >"$out/digests.txt.new"
}

self_dispatch "$@"

start=$(date +%s)
step "root filesystems" self_cmd rootfs_all
key=$( {
	cat "$0" "$IMG_DIR/oci-image.sh" "$IMG_DIR/lib.sh"
	printf '%s\n' "$IMAGE_NAME" "$IMAGE_REVISION" "$IMAGE_SOURCE" "$RECLAIM_VERSION" "$SOURCE_DATE_EPOCH" \
		"$IMG_DISTROS" "$IMG_ARCHES" "$(umoci --version)" "$(skopeo --version)"
	for d in $IMG_DISTROS; do for a in $IMG_ARCHES; do cat "$out/rootfs-$d-$a.prefix"; done; done
} | sha256sum | cut -c1-16)
if [ -f "$out/.key" ] && [ "$(cat "$out/.key")" = "$key" ] && [ -f "$out/oci/index.json" ]; then
	say "layout and archives are up to date ($out/oci)"
	cat "$out/digests.txt"
	exit 0
fi
rm -f "$out/.key"
rm -rf "$layout" "$out/archives.new"
step "per-arch images (umoci)" self_cmd manifests
step "multi-platform indexes" self_cmd indexes
step "docker-archives (skopeo)" self_cmd archives
step "digests" self_cmd digests
rm -rf "$out/oci" "$out/archives"
mv "$layout" "$out/oci"
mv "$out/archives.new" "$out/archives"
mv "$out/digests.txt.new" "$out/digests.txt"
echo "$key" >"$out/.key"
cat "$out/digests.txt"
say "built in $(( $(date +%s) - start ))s: $out/oci, $out/archives/"
