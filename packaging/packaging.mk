# packaging.mk: .deb/.rpm packages, apt and yum repositories, and their
# install tests (included by the top Makefile, which defines BUILD, CACHE,
# RECLAIM_VERSION, UPSTREAM_* and the stamp $(BUILD)/.upstream-ok).
#
#   make debs            .debs for bookworm and trixie, amd64 + arm64 -> build/packages/<distro>/
#   make apt-repo        signed apt repository (dists bookworm, trixie)  -> build/apt-repo/
#   make rpms            luajit + luajit-devel, x86_64 + aarch64         -> build/packages/rpm/
#   make yum-repo        signed yum repository                           -> build/yum-repo/
#   make check-packages  install tests in fresh chroots (see packaging/check-packages.sh)
#
# Invariants: every .deb set is built once per change of its inputs (a stamp
# per distro); the signing key is generated once per build/ tree, never
# committed (PKG_SIGNING_GNUPGHOME selects a publisher's keyring instead);
# chroot tarballs are cached in $(CACHE)/chroots/.

PKG_DISTROS    := bookworm trixie
PKG_OUT        := $(BUILD)/packages
PKG_APT_REPO   := $(BUILD)/apt-repo
PKG_YUM_REPO   := $(BUILD)/yum-repo
PKG_TARBALL    := $(or $(LUAJIT_SRC_TARBALL),$(CACHE)/$(UPSTREAM_TARBALL))
# The URI the keyring package's apt source names; publishers set the real one.
PKG_APT_URI    ?= file:/srv/luajit-reclaim/apt
PKG_YUM_URI    ?= file:///srv/luajit-reclaim/yum
PKG_MAINTAINER ?= luajit-reclaim developers <packaging@luajit-reclaim.invalid>
# Changelog date: when our version last changed (stable across rebuilds).
PKG_DATE       := $(or $(shell git log -1 --format=%cD -- runtime/version.mk 2>/dev/null),$(shell date -R))

PKG_ENV = PKG_CACHE='$(CACHE)' TARBALL='$(PKG_TARBALL)' RECLAIM_VERSION='$(RECLAIM_VERSION)' \
	UPSTREAM_VERSION='$(UPSTREAM_VERSION)' UPSTREAM_RELVER='$(UPSTREAM_RELVER)' \
	PKG_OUT='$(PKG_OUT)' PKG_MAINTAINER='$(PKG_MAINTAINER)' PKG_DATE='$(PKG_DATE)' \
	PKG_APT_URI='$(PKG_APT_URI)' PKG_YUM_URI='$(PKG_YUM_URI)' \
	PKG_KEYRING='$(PKG_OUT)/signing/luajit-reclaim-archive-keyring.gpg' JOBS='$(JOBS)'

# The packages build luajit-memstat and ship the swap tools too (prepare-tree.sh
# copies them into the tree; lib/shell.sh, the tools' shell.sh, is listed below).
PKG_TOOL_INPUTS := $(wildcard runtime/tools/memstat/*.c runtime/tools/memstat/*.h) runtime/doc/luajit-memstat.1 \
	$(addprefix runtime/tools/swap/,luajit-reclaim-swap luajit-reclaim-run probe.c fingerprint.lua \
	luajit-reclaim-swap.1 luajit-reclaim-run.1)
PKG_DEB_INPUTS := $(RUNTIME_INPUTS) $(PKG_TOOL_INPUTS) $(addprefix packaging/,lib.sh chroots.sh debian-ref.sh \
	debian-dir.sh symbols-check.sh build-debs.sh) $(wildcard packaging/debian/* \
	packaging/debian/*/* packaging/distros/* packaging/keyring/* packaging/keyring/debian/* \
	packaging/keyring/debian/*/*) lib/shell.sh
PKG_RPM_INPUTS := $(RUNTIME_INPUTS) $(PKG_TOOL_INPUTS) $(wildcard packaging/rpm/*) packaging/lib.sh lib/shell.sh

$(PKG_OUT)/signing/env: packaging/signing-key.sh | $(BUILD)/.deps-ok
	@packaging/signing-key.sh $(PKG_OUT)/signing >/dev/null

# The build chroots of all distros are created (when not cached) side by side
# first: mmdebstrap is mostly single-threaded, downloads and dpkg. Each job is
# waited for by its pid: bash 5.2's `wait -n` misses a job that has already
# ended (cached chroots end at once), which failed this step at random.
$(PKG_OUT)/.build-chroots: packaging/chroots.sh packaging/lib.sh | $(BUILD)/.deps-ok
	@pids=; for d in $(PKG_DISTROS); do PKG_CACHE='$(CACHE)' packaging/chroots.sh build $$d >/dev/null & pids="$$pids $$!"; done; \
	 ok=1; for p in $$pids; do wait $$p || ok=0; done; [ $$ok = 1 ]
	@mkdir -p $(@D) && touch $@

$(PKG_OUT)/%/.stamp: $(PKG_DEB_INPUTS) $(BUILD)/.upstream-ok $(PKG_OUT)/signing/env $(PKG_OUT)/.build-chroots
	@$(PKG_ENV) packaging/build-debs.sh $*
	@touch $@

$(PKG_APT_REPO)/.stamp: $(foreach d,$(PKG_DISTROS),$(PKG_OUT)/$(d)/.stamp) packaging/apt-repo.sh
	@packaging/apt-repo.sh $(PKG_OUT) $(PKG_APT_REPO) $(PKG_DISTROS)
	@touch $@

$(PKG_OUT)/rpm/.stamp: $(PKG_RPM_INPUTS) $(BUILD)/.upstream-ok
	@$(PKG_ENV) packaging/rpm/build-rpms.sh
	@touch $@

$(PKG_YUM_REPO)/.stamp: $(PKG_OUT)/rpm/.stamp $(PKG_OUT)/signing/env packaging/rpm/yum-repo.sh
	@$(PKG_ENV) packaging/rpm/yum-repo.sh $(PKG_OUT) $(PKG_YUM_REPO)
	@touch $@

.PHONY: debs apt-repo rpms yum-repo check-packages
debs: $(foreach d,$(PKG_DISTROS),$(PKG_OUT)/$(d)/.stamp)
apt-repo: $(PKG_APT_REPO)/.stamp
rpms: $(PKG_OUT)/rpm/.stamp
yum-repo: $(PKG_YUM_REPO)/.stamp

check-packages: apt-repo yum-repo
	@$(PKG_ENV) packaging/check-packages.sh $(PKG_APT_REPO) $(PKG_YUM_REPO)
