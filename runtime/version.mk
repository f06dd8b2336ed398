# Our version: the one place that defines it. Everything else (luajit -v,
# require("reclaim").version, luajit-reclaim.h, packages) is generated from it.
RECLAIM_VERSION := 0.1.0
