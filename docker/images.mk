# docker/images.mk: container images of luajit-reclaim, built without a
# Docker engine (included by the top Makefile, after packaging/packaging.mk:
# uses BUILD, CACHE, RECLAIM_VERSION, PKG_APT_REPO, PKG_APT_URI).
#
#   make images         OCI layout (one multi-platform index per distro) and
#                       docker-archives in build/images/ (docker/build-images.sh)
#   make check-images   the image tests (docker/check-images.sh)
#
# Knobs: IMAGE_NAME (repository name in the docker-archives' tags),
# IMAGE_SOURCE (org.opencontainers.image.source), SOURCE_DATE_EPOCH (default:
# the commit time of the last change to runtime/version.mk, i.e. of the
# release), IMAGES_DISTROS, IMAGES_ARCHES, IMAGES_JOBS, IMAGES_TEST_PORT,
# IMAGES_REPRO, IMAGES_DEBIAN_URI / IMAGES_SECURITY_URI (Debian archives the
# images are built from and keep as apt sources; default: this machine's).
#
# Invariants: the root filesystems are cached in $(CACHE)/images/ (see
# docker/rootfs.sh for the key); IMAGE_REVISION is the git commit, with
# "-dirty" when tracked files differ from it; the images always come from
# the current apt repository (make apt-repo).

IMAGES_OUT     := $(BUILD)/images
IMAGE_NAME     ?= luajit-reclaim
IMAGE_SOURCE   ?= $(or $(shell git remote get-url origin 2>/dev/null),https://luajit-reclaim.invalid/luajit-reclaim.git)
IMAGE_REVISION := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
IMAGES_EPOCH   := $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct -- runtime/version.mk 2>/dev/null))

IMAGES_ENV = IMG_REPO='$(abspath $(PKG_APT_REPO))' PKG_CACHE='$(CACHE)' SOURCE_DATE_EPOCH='$(IMAGES_EPOCH)' \
	RECLAIM_VERSION='$(RECLAIM_VERSION)' IMAGE_NAME='$(IMAGE_NAME)' IMAGE_SOURCE='$(IMAGE_SOURCE)' \
	IMAGE_REVISION='$(IMAGE_REVISION)' PKG_APT_URI='$(PKG_APT_URI)'

.PHONY: images check-images
images: apt-repo
	@$(IMAGES_ENV) docker/build-images.sh $(IMAGES_OUT)

check-images: images
	@$(IMAGES_ENV) docker/check-images.sh $(IMAGES_OUT)
