# check-valgrind: the Lua test suite on a build whose allocator tells
# memcheck about every block (-DRCL_VALGRIND client requests), so invalid
# reads/writes of freed or never-allocated heap memory are errors.
VALGRIND_XCFLAGS := -DRCL_VALGRIND
$(eval $(call variant,x86_64-valgrind,x86_64,0,0,$(VALGRIND_XCFLAGS)))

.PHONY: check-valgrind
check-valgrind: $(BUILD)/x86_64-valgrind/.stamp
	@tests/valgrind/check-valgrind.sh
