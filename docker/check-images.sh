#!/bin/bash
# check-images.sh: the image tests (make check-images, part of make check).
#
#   check-images.sh OUT          OUT = what build-images.sh wrote (build/images)
#
# Environment: as build-images.sh, plus PKG_APT_URI (where the baked .sources
# points; must be a file: URI here) and optional IMAGES_TEST_PORT (first
# loopback port for nginx, default 18090; one per image), IMAGES_REPRO
# ("DISTRO ARCH" rebuilt for the reproducibility test, default "trixie amd64").
#
# Parts (each timed; jobs two at a time):
#  1. tags: OUT/oci/index.json tags exactly <RECLAIM_VERSION>-<distro>,
#     <distro> and latest (= trixie); each index lists linux/amd64 and
#     linux/arm64/v8 and carries the labels as annotations.
#  2. inspect: per tag and arch, skopeo inspect picks the right manifest:
#     architecture, os, every label (values recomputed from the .debs in the
#     repository and git), Cmd; the config's layer diff_id is the sha256 of the
#     cached rootfs tar; each docker-archive has the right tags, arch and config.
#  3. per image (skopeo copy of one platform out of the index, umoci unpack):
#     luajit -v as root and as UID 10001 (user luajit), arm64 through qemu
#     binfmt; dpkg has our packages at the versions of the .debs; apt source,
#     key and pin present; docker/tests/burst.lua as UID 10001 (RSS falls);
#     luajit-memstat: --help as UID 10001, a read of a running luajit; the
#     example derived image (docker/tests/example-in-image.sh: apt-get
#     install nginx + lua module from Debian, nginx serves the handler on our
#     runtime; on amd64 packaging/tests/idle-worker.sh on it: a burst, then
#     no request, the worker's VmRSS falls, luajit-memstat --nginx agrees with
#     the worker; dpkg still has ours), then here: its luajit-memstat --nginx
#     --json lists master and worker with a heap each, and its /metrics passes
#     promtool check metrics; size of the image's rootfs tar against the
#     plain slim rootfs of the same mmdebstrap run (both printed; > 10 MiB
#     more fails).
#  4. Dockerfile: docker/Dockerfile's RUN step (install-runtime.sh) in the
#     plain slim amd64 rootfs of each distro, standing in for
#     debian:<distro>-slim (no registry here): luajit -v, user, packages.
#  5. reproducible: IMAGES_REPRO is built again now with mmdebstrap, never
#     from the cache, and its manifest digest must equal the index's. One
#     amd64 image only (about 15 s), because the other three cost minutes
#     under qemu; the arm64 path shares every script with it.
#
# Invariants: a missing tool or a non-working arm64 emulation fails loudly;
# nothing is skipped; the unpacked images live on a tmpfs in a private mount
# namespace and vanish with this script; every failure names the image.
set -eu
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2034 # read by self_cmd (lib.sh)
IMG_SELF_ARGS=("$@")

out=$(cd "${1:?usage: check-images.sh OUT}" && pwd)
: "${IMG_REPO:?}" "${SOURCE_DATE_EPOCH:?}" "${RECLAIM_VERSION:?}" "${IMAGE_NAME:?}"
: "${IMAGE_REVISION:?}" "${IMAGE_SOURCE:?}" "${PKG_APT_URI:?}"
export IMG_REPO SOURCE_DATE_EPOCH RECLAIM_VERSION IMAGE_REVISION IMAGE_SOURCE
need umoci skopeo jq tar sha256sum:coreutils unshare:util-linux chroot:coreutils mmdebstrap arch-test promtool:prometheus
need_root "the tests unpack images and chroot into them"
layout=$out/oci
[ -f "$layout/index.json" ] || die "no OCI layout at $layout (run make images)"
case "$PKG_APT_URI" in
file:*) repo_in_image=${PKG_APT_URI#file:}; repo_in_image=/${repo_in_image#"${repo_in_image%%[!/]*}"} ;;
*) die "PKG_APT_URI=$PKG_APT_URI: check-images mounts the repository where the image's .sources points, so it must be a file: URI" ;;
esac
case " $IMG_ARCHES " in *" arm64 "*)
	arch-test arm64 >/dev/null 2>&1 || die "arm64 binaries do not run here (arch-test arm64): qemu-user-static and binfmt-support are needed" ;;
esac
port0=${IMAGES_TEST_PORT:-18090}
read -r repro_distro repro_arch <<<"${IMAGES_REPRO:-trixie amd64}"

work=$PKG_TOP/build/images-check

# ok MSG / fail MSG: one line per check; fail ends the current part or job
# (each runs in its own process, see part and pool_add).
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; exit 1; }

# expected_packages DISTRO ARCH: "name=version ..." of the .debs in the repo.
expected_packages() {
	local deb list=
	for deb in $(image_debs "$IMG_REPO" "$1" "$2"); do
		list="$list $(deb_field "$deb" Package)=$(deb_field "$deb" Version)"
	done
	echo "${list# }"
}

check_tags() {
	local want got d a idx
	want=$(for d in $IMG_DISTROS; do image_tags "$d"; done | sort)
	got=$(jq -r '.manifests[].annotations["org.opencontainers.image.ref.name"]' "$layout/index.json" | sort)
	[ "$got" = "$want" ] || fail "tags in $layout/index.json are [$(echo $got)], want [$(echo $want)]"
	ok "tags: $(echo $got)"
	[ "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "latest") | .digest' "$layout/index.json")" = \
		"$(jq -r --arg t "$IMG_LATEST" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$layout/index.json")" ] ||
		fail "latest is not $IMG_LATEST"
	ok "latest = $IMG_LATEST"
	for d in $IMG_DISTROS; do
		idx=$(skopeo inspect --raw "oci:$layout:$RECLAIM_VERSION-$d")
		[ "$(jq -r .mediaType <<<"$idx")" = application/vnd.oci.image.index.v1+json ] || fail "$d: not an OCI image index"
		[ "$(jq '.manifests | length' <<<"$idx")" = "$(echo $IMG_ARCHES | wc -w)" ] || fail "$d: index lists $(jq '.manifests | length' <<<"$idx") manifests"
		for a in $IMG_ARCHES; do
			got=$(jq -c --arg a "$a" '[.manifests[].platform | select(.architecture == $a)]' <<<"$idx")
			if [ "$a" = arm64 ]; then want='[{"architecture":"arm64","os":"linux","variant":"v8"}]'
			else want="[{\"architecture\":\"$a\",\"os\":\"linux\"}]"; fi
			[ "$got" = "$want" ] || fail "$d: platform of $a is $got, want $want"
		done
		check_labels "$d index annotations" "$(jq -c '.annotations' <<<"$idx")" "$d" "$(set -- $IMG_ARCHES; echo "$1")"
		ok "$d: index with platforms $(jq -r '[.manifests[].platform | [.os, .architecture, .variant // empty] | join("/")] | join(", ")' <<<"$idx")"
	done
}

# check_labels WHAT JSON DISTRO ARCH: JSON (an object) has every label with
# the value it must have.
check_labels() {
	local what=$1 json=$2 line k v got
	while IFS= read -r line; do
		k=${line%%=*} v=${line#*=}
		got=$(jq -r --arg k "$k" '.[$k] // "(missing)"' <<<"$json")
		[ "$got" = "$v" ] || fail "$what: label $k is '$got', want '$v'"
	done < <(image_labels "$3" "$(deb_field "$(image_debs "$IMG_REPO" "$3" "$4" | sed -n 2p)" Version)" \
		"$(expected_packages "$3" "$4")")
}

check_inspect() {
	local d a t info cfg manifest config index got prefix archive mf
	for d in $IMG_DISTROS; do
		for a in $IMG_ARCHES; do
			index=$(skopeo inspect --raw "oci:$layout:$RECLAIM_VERSION-$d")
			manifest=$(jq -r --arg a "$a" '.manifests[] | select(.platform.architecture == $a) | .digest' <<<"$index")
			config=$(jq -r .config.digest "$layout/blobs/sha256/${manifest#sha256:}")
			for t in $(image_tags "$d"); do
				# shellcheck disable=SC2046
				info=$(skopeo inspect $(platform_args "$a") "oci:$layout:$t")
				[ "$(jq -r .Digest <<<"$info")" = "sha256:$(sha256sum <<<"$index" | cut -d' ' -f1)" ] ||
					[ "$(jq -r .Digest <<<"$info")" = "$(jq -r --arg t "$t" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$layout/index.json")" ] ||
					fail "$t: skopeo inspect reports digest $(jq -r .Digest <<<"$info"), not the index's"
				# shellcheck disable=SC2046
				got=$(skopeo inspect --config --raw $(platform_args "$a") "oci:$layout:$t" | sha256sum | cut -d' ' -f1)
				[ "sha256:$got" = "$config" ] || fail "$t/$a: skopeo picked config sha256:$got, want $config (of manifest $manifest)"
				[ "$(jq -r '.Architecture + "/" + .Os' <<<"$info")" = "$a/linux" ] ||
					fail "$t/$a: architecture/os $(jq -r '.Architecture + "/" + .Os' <<<"$info")"
				check_labels "$t/$a" "$(jq -c .Labels <<<"$info")" "$d" "$a"
			done
			# shellcheck disable=SC2046
			cfg=$(skopeo inspect --config $(platform_args "$a") "oci:$layout:$RECLAIM_VERSION-$d")
			[ "$(jq -c .config.Cmd <<<"$cfg")" = '["luajit"]' ] || fail "$d/$a: Cmd is $(jq -c .config.Cmd <<<"$cfg")"
			[ "$(jq -r '.config.User // ""' <<<"$cfg")" = "" ] || fail "$d/$a: User is set (the base image runs as root)"
			[ "$(jq -r .created <<<"$cfg")" = "$(image_created)" ] || fail "$d/$a: created is $(jq -r .created <<<"$cfg")"
			prefix=$(cat "$out/rootfs-$d-$a.prefix")
			[ "$(jq -r '.rootfs.diff_ids | join(" ")' <<<"$cfg")" = "sha256:$(sha256sum "$prefix.rootfs.tar" | cut -d' ' -f1)" ] ||
				fail "$d/$a: the layer is not the rootfs tar $prefix.rootfs.tar"
			ok "$d/$a: manifest $manifest, labels, Cmd, created, layer = cached rootfs, for tags $(image_tags "$d" | tr '\n' ' ')"

			archive=$out/archives/${IMAGE_NAME##*/}_$RECLAIM_VERSION-${d}_$a.docker.tar
			[ -f "$archive" ] || fail "no docker-archive $archive"
			mf=$(tar -xOf "$archive" manifest.json)
			# skopeo writes short names fully qualified, as docker load shows them too.
			[ "$(jq -r '.[0].RepoTags | map(sub("^docker.io/library/"; "")) | sort | join(" ")' <<<"$mf")" = "$(image_tags "$d" | sed "s|^|$IMAGE_NAME:|" | sort | tr '\n' ' ' | sed 's/ $//')" ] ||
				fail "$archive: RepoTags $(jq -c '.[0].RepoTags' <<<"$mf")"
			[ "$(tar -xOf "$archive" "$(jq -r '.[0].Config' <<<"$mf")" | jq -c .rootfs.diff_ids)" = "$(jq -c .rootfs.diff_ids <<<"$cfg")" ] ||
				fail "$archive: its layer is not the image's"
			[ "$(skopeo inspect "docker-archive:$archive" | jq -r .Architecture)" = "$a" ] || fail "$archive: not $a"
			ok "$(basename "$archive"): tags $(jq -r '.[0].RepoTags | join(" ")' <<<"$mf"), $a"
		done
	done
}

# as_luajit ROOT CMD...: CMD inside ROOT as the image's user luajit.
as_luajit() {
	local root=$1
	shift
	in_chroot "$root" setpriv --reuid="$IMG_UID" --regid="$IMG_UID" --clear-groups \
		/usr/bin/env HOME=/home/luajit USER=luajit "$@"
}

# check_banner WHO OUTPUT: OUTPUT of luajit -v is ours.
check_banner() {
	printf '%s\n' "$2" | sed 's/^/    /'
	case "$(printf '%s\n' "$2" | head -n 1)" in "LuaJIT 2.1."*) ;; *) fail "luajit -v as $1: no LuaJIT 2.1 banner" ;; esac
	[ "$(printf '%s\n' "$2" | sed -n 2p)" = "luajit-reclaim $RECLAIM_VERSION" ] ||
		fail "luajit -v as $1: second line is not 'luajit-reclaim $RECLAIM_VERSION'"
	ok "luajit -v as $1"
}

# check_image DISTRO ARCH PORT: the checks of part 3 on one image.
check_image() {
	local d=$1 a=$2 port=$3 dir=$work/$1-$2 root pkgs pv got res prefix plain img layer cache
	pkgs=$(expected_packages "$d" "$a")
	mkdir -p "$dir"
	# shellcheck disable=SC2046
	skopeo copy -q $(platform_args "$a") "oci:$layout:$RECLAIM_VERSION-$d" "oci:$dir/oci:img"
	umoci unpack --image "$dir/oci:img" "$dir/bundle" >/dev/null
	root=$dir/bundle/rootfs
	[ "$(jq -c .process.args "$dir/bundle/config.json")" = '["luajit"]' ] || fail "runtime config: args are not [\"luajit\"]"
	ok "umoci unpack of the $a image of $RECLAIM_VERSION-$d; runtime args [\"luajit\"], user $(jq -c .process.user "$dir/bundle/config.json")"

	got=$(in_chroot "$root" sh -c 'echo "$(dpkg --print-architecture) $(uname -m)"')
	case "$a:$got" in amd64:"amd64 x86_64" | arm64:"arm64 aarch64") ;; *) fail "the image runs as '$got', want $a" ;; esac
	ok "runs as $got"
	check_banner root "$(in_chroot "$root" luajit -v)"
	res=$(as_luajit "$root" sh -c 'echo "$(id -un) $(id -u) $(id -g) $HOME"; luajit -v')
	[ "$(printf '%s\n' "$res" | head -n 1)" = "luajit $IMG_UID $IMG_UID /home/luajit" ] ||
		fail "user: '$(printf '%s\n' "$res" | head -n 1)', want 'luajit $IMG_UID $IMG_UID /home/luajit'"
	ok "user luajit is UID/GID $IMG_UID with home /home/luajit"
	check_banner "UID $IMG_UID" "$(printf '%s\n' "$res" | tail -n +2)"

	for pv in $pkgs; do
		got=$(in_chroot "$root" dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "${pv%%=*}" 2>/dev/null || true)
		[ "$got" = "ii  ${pv#*=}" ] || fail "${pv%%=*} is '$got', want ${pv#*=} (from $IMG_REPO)"
	done
	ok "installed: $pkgs"
	grep -qx "URIs: $PKG_APT_URI" "$root/etc/apt/sources.list.d/luajit-reclaim.sources" ||
		fail "/etc/apt/sources.list.d/luajit-reclaim.sources does not name $PKG_APT_URI"
	grep -qx "Signed-By: /usr/share/keyrings/luajit-reclaim-archive-keyring.gpg" "$root/etc/apt/sources.list.d/luajit-reclaim.sources" ||
		fail "our .sources has no Signed-By"
	cmp -s "$root/usr/share/keyrings/luajit-reclaim-archive-keyring.gpg" "$IMG_REPO/luajit-reclaim-archive-keyring.gpg" ||
		fail "the baked key is not the repository's"
	grep -qx "Pin-Priority: 1001" "$root/etc/apt/preferences.d/luajit-reclaim.pref" || fail "no pin at 1001"
	ok "apt source ($PKG_APT_URI, Signed-By), the repository's key and the pin (1001) are baked in"
	got=$(find "$root/var/lib/apt/lists" -type f ! -name lock; find "$root/usr/share/doc" -type f ! -name copyright;
		find "$root/usr/share" -maxdepth 1 \( -name man -o -name info \); find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias)
	[ -z "$got" ] || fail "not slim: $(echo "$got" | head -n 5 | tr '\n' ' ')"
	[ -x "$root/usr/bin/apt-get" ] && [ -x "$root/usr/bin/dpkg" ] || fail "apt or dpkg is missing"
	[ "$(readlink "$root/bin")" = usr/bin ] && [ "$(readlink "$root/lib")" = usr/lib ] || fail "/bin, /lib are not merged into /usr"
	ok "slim: no apt lists, no docs but copyright, no man/info pages, no locales; apt and dpkg kept; merged /usr"

	prefix=$(cat "$out/rootfs-$d-$a.prefix")
	plain=$(stat -c %s "$prefix.plain.tar")
	img=$(stat -c %s "$prefix.rootfs.tar")
	layer=$(jq -r '.layers[0].size' "$dir/oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$dir/oci/index.json" | cut -d: -f2)")
	echo "    size: image rootfs $((img / 1024)) KiB ($((layer / 1024)) KiB gzip layer), plain slim rootfs $((plain / 1024)) KiB, difference $(((img - plain) / 1024)) KiB"
	[ $((img - plain)) -le $((10 * 1024 * 1024)) ] || fail "the image is more than 10 MiB larger than the plain slim rootfs"
	ok "size within 10 MiB of the plain slim rootfs"

	cp "$IMG_DIR/tests/burst.lua" "$root/tmp/burst.lua"
	res=$(as_luajit "$root" luajit /tmp/burst.lua 2>&1) || { printf '%s\n' "$res"; fail "burst.lua (as UID $IMG_UID)"; }
	printf '%s\n' "$res" | sed 's/^/    /'
	ok "reclaim burst test as UID $IMG_UID"

	res=$(as_luajit "$root" luajit-memstat --help | head -n 1)
	[ "$res" = "usage: luajit-memstat [OPTIONS] PID..." ] || fail "luajit-memstat --help as UID $IMG_UID: '$res'"
	res=$(in_chroot "$root" sh -c 'luajit -e "local t = {} for i = 1, 1e5 do t[i] = { i } end os.execute(\"sleep 30\")" &
		pid=$!; sleep 2; luajit-memstat "$pid"; s=$?; kill "$pid"; exit $s' 2>&1) ||
		{ printf '%s\n' "$res"; fail "luajit-memstat of a running luajit"; }
	printf '%s\n' "$res" | grep -q "^  registry .*: luajit-reclaim $RECLAIM_VERSION, " && printf '%s\n' "$res" | grep -q '^  Lua heaps .* in 1 heap:' ||
		{ printf '%s\n' "$res"; fail "luajit-memstat shows no heap of luajit-reclaim $RECLAIM_VERSION in a running luajit"; }
	ok "luajit-memstat: --help as UID $IMG_UID, reads a running luajit ($(printf '%s\n' "$res" | sed -n 's/^  Lua heaps *//p'))"

	cp -a "$IMG_DIR/examples" "$root/tmp/example"
	cp "$IMG_DIR/tests/example-in-image.sh" "$root/tmp/example-in-image.sh"
	mkdir -p "$root/tmp/luajit-reclaim-tests"
	cp "$PKG_DIR/tests/idle-worker.sh" "$PKG_DIR/tests/idle-site.conf.in" "$PKG_TOP/tests/nginx/site.lua" "$root/tmp/luajit-reclaim-tests/"
	cache=$PKG_CACHE/images/apt-archives-$d-$a
	mkdir -p "$cache/partial"
	CHROOT_BINDS="$IMG_REPO:$repo_in_image $cache:/var/cache/apt/archives" in_chroot "$root" \
		env PORT="$port" RECLAIM_VERSION="$RECLAIM_VERSION" OUR_PACKAGES="$pkgs" EXAMPLE=/tmp/example \
		TESTS=/tmp/luajit-reclaim-tests IDLE_TEST="$([ "$a" = amd64 ] && echo 1 || echo 0)" \
		/bin/bash /tmp/example-in-image.sh || fail "the example derived image ($d/$a)"
	check_example_results "$root/tmp/results" "$d/$a"
	# The download cache of this test: drop .debs downloaded over a month ago
	# (fetched again if still needed).
	find "$cache" -maxdepth 1 -name '*.deb' -mtime +31 -delete
	ok "example derived image keeps our runtime"
	rm -rf "$dir"
}

# check_example_results DIR WHAT: what example-in-image.sh saved from the
# example's nginx (pids are those of its PID namespace): luajit-memstat
# --nginx --json lists the master and one worker, a heap each, the worker on
# the image's libluajit-5.1.so.2; /metrics passes promtool and has the
# worker's in_use sample.
check_example_results() {
	local dir=$1 json=$1/memstat-nginx.json master worker
	master=$(cat "$dir/nginx.pid")
	worker=$(jq --argjson m "$master" '[.processes[] | select(.ppid == $m) | .pid] | if length == 1 then .[0] else error("want one worker") end' "$json") ||
		{ cat "$json"; fail "$2: luajit-memstat --nginx $master --json does not list one worker of the master"; }
	[ "$(jq -c '[.processes[].pid] | sort' "$json")" = "$(printf '%s\n' "$master" "$worker" | sort -n | jq -sc .)" ] ||
		{ cat "$json"; fail "$2: luajit-memstat --nginx $master --json lists other processes than the master and worker $worker"; }
	[ "$(jq -c '[.processes[] | .heaps | length]' "$json")" = "[1,1]" ] ||
		{ cat "$json"; fail "$2: luajit-memstat --nginx --json: want one heap in the master and one in the worker"; }
	[ "$(jq -r --argjson w "$worker" '.processes[] | select(.pid == $w) | .luajit_library' "$json")" = "$(cat "$dir/libluajit")" ] ||
		fail "$2: luajit-memstat --nginx --json: the worker's library is not the image's $(cat "$dir/libluajit")"
	ok "$2: luajit-memstat --nginx --json of the example's nginx: master $master and worker $worker, one heap each"
	promtool check metrics <"$dir/metrics.txt" >"$dir/promtool.log" 2>&1 ||
		{ cat "$dir/metrics.txt" "$dir/promtool.log"; fail "$2: promtool check metrics rejects the example's /metrics"; }
	grep -q "^luajit_reclaim_in_use_bytes{pid=\"$worker\",heap=\"0x[0-9a-f]*\"} [0-9]*\$" "$dir/metrics.txt" ||
		fail "$2: the example's /metrics has no luajit_reclaim_in_use_bytes sample of worker $worker"
	ok "$2: the example's /metrics ($(grep -c '^luajit_reclaim_' "$dir/metrics.txt") samples) passes promtool check metrics"
}

# check_dockerfile DISTRO: docker/Dockerfile's RUN step in a copy of the
# plain slim amd64 rootfs (the stand-in for debian:DISTRO-slim: no registry
# here), with the repository and the script bind-mounted as the RUN mounts them.
check_dockerfile() {
	local d=$1 root=$work/dockerfile-$1 prefix line res
	line=$(grep -A3 '^RUN --mount=type=bind,from=luajit-reclaim-apt,target=/tmp/luajit-reclaim-apt' "$IMG_DIR/Dockerfile" | tr -d '\\\n' | tr -s ' \t' '  ')
	case "$line" in *"--mount=type=bind,source=install-runtime.sh,target=/tmp/install-runtime.sh sh /tmp/install-runtime.sh /tmp/luajit-reclaim-apt"*) ;;
	*) fail "docker/Dockerfile's RUN step is not the one this test runs: $line" ;; esac
	grep -qx 'FROM debian:${DISTRO}-slim' "$IMG_DIR/Dockerfile" || fail "docker/Dockerfile is not FROM debian:\${DISTRO}-slim"
	prefix=$(cat "$out/rootfs-$d-amd64.prefix")
	chroot_unpack "$prefix.plain.tar" "$root"
	[ ! -e "$root/usr/bin/luajit" ] || fail "the plain rootfs has a luajit already"
	CHROOT_BINDS="$IMG_REPO:/tmp/luajit-reclaim-apt $IMG_DIR:/tmp/luajit-reclaim-docker" in_chroot "$root" \
		sh /tmp/luajit-reclaim-docker/install-runtime.sh /tmp/luajit-reclaim-apt || fail "the Dockerfile's RUN step"
	check_banner root "$(in_chroot "$root" luajit -v)"
	res=$(as_luajit "$root" sh -c 'echo "$(id -un) $(id -u) $(id -g)"')
	[ "$res" = "luajit $IMG_UID $IMG_UID" ] || fail "user after the Dockerfile's RUN: '$res'"
	for pv in $(expected_packages "$d" amd64); do
		res=$(in_chroot "$root" dpkg-query -W -f='${Version}' "${pv%%=*}" 2>/dev/null || true)
		[ "$res" = "${pv#*=}" ] || fail "${pv%%=*} is '$res' after the Dockerfile's RUN, want ${pv#*=}"
	done
	ok "docker/Dockerfile's RUN on the plain $d slim rootfs installs our runtime ($(expected_packages "$d" amd64))"
	rm -rf "$root"
}

# check_repro: part 4.
check_repro() {
	local d=$repro_distro a=$repro_arch dir=$work/repro prefix cached digest want
	prefix=$("$IMG_DIR/rootfs.sh" --fresh "$d" "$a" "$dir")
	digest=$("$IMG_DIR/oci-image.sh" "$dir/oci" img "$d" "$a" "$prefix")
	want=$(skopeo inspect --raw "oci:$layout:$RECLAIM_VERSION-$d" | jq -r --arg a "$a" '.manifests[] | select(.platform.architecture == $a) | .digest')
	cached=$(cat "$out/rootfs-$d-$a.prefix")
	echo "    rootfs tar: image $(sha256sum <"$cached.rootfs.tar" | cut -c1-16), rebuilt now $(sha256sum <"$prefix.rootfs.tar" | cut -c1-16)"
	echo "    manifest:   image $want, rebuilt now $digest"
	if [ "$digest" != "$want" ]; then
		diff <(tar -tvf "$cached.rootfs.tar") <(tar -tvf "$prefix.rootfs.tar") | head -n 40
		fail "$d/$a rebuilt from the same inputs has another manifest digest"
	fi
	ok "$d/$a rebuilt with mmdebstrap now (not from the cache): same manifest digest"
	rm -rf "$dir"
}

# check_all_images: part 3 (and 4, 5), IMAGES_JOBS (default 2) jobs at once;
# every job runs to its end (--keep-going), so one run names every failing image.
check_all_images() {
	local d a i=0
	pool_start --keep-going "$work/logs" "${IMAGES_JOBS:-2}"
	# The arm64 images first (minutes under qemu-user); the reproducibility
	# rebuild and the amd64 images then fill the other slot.
	for a in arm64 repro $IMG_ARCHES; do
		case "$a" in
		repro)
			pool_add "reproducible $repro_distro/$repro_arch" self_cmd check_repro
			case " $IMG_ARCHES " in *" amd64 "*)
				for d in $IMG_DISTROS; do pool_add "Dockerfile $d/amd64" self_cmd check_dockerfile "$d"; done ;;
			esac
			continue ;;
		arm64) [ "$i" = 0 ] || continue; case " $IMG_ARCHES " in *" arm64 "*) ;; *) continue ;; esac ;;
		esac
		for d in $IMG_DISTROS; do
			pool_add "image $d/$a" self_cmd check_image "$d" "$a" $((port0 + i))
			i=$((i + 1))
		done
	done
	pool_wait
}

self_dispatch "$@"

mkdir -p "$work"
private_mounts check-images "$0" "$@"
mount -t tmpfs -o size="${PKG_TMPFS_SIZE:-8g}" tmpfs "$work"
start=$SECONDS
failed=0
# part NAME FUNC...: step NAME running FUNC in a new process (self_cmd), so
# `set -e` and fail act inside it; every part runs, failed ones are counted.
part() {
	local name=$1
	shift
	step "$name" self_cmd "$@" || failed=$((failed + 1))
}
part "tags and indexes" check_tags
part "skopeo inspect (labels, platforms, archives)" check_inspect
part "images (luajit, burst, example, size), reproducible" check_all_images
step_summary
say "$([ $failed = 0 ] && echo "all passed" || echo "$failed part(s) FAILED") in $((SECONDS - start))s"
[ $failed = 0 ]
