# check-pagesim: the runtime under a simulated 4K, 16K and 64K page size
# (tests/tools/pagesim), natively on x86_64. See tests/pagesim/check-pagesim.sh.
.PHONY: check-pagesim
check-pagesim: $(BUILD)/x86_64/.stamp $(BUILD)/x86_64-granule4k/.stamp $(BUILD)/tools/pagesim.so
	@tests/pagesim/check-pagesim.sh
