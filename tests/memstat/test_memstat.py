"""tests/memstat/test_memstat.py: luajit-memstat against live processes.

Run by tests/memstat/run.sh (make check-memstat) as root with Debian's python3
(python3-jsonschema) and promtool. The processes it reads are started here:
tests/memstat/alloc.lua on build/x86_64 (our runtime) in four shapes, a stock
LuaJIT (build/stock-x86_64), plain `sleep`, processes of the user nobody, and a
process in a memory cgroup with a limit. Every check prints "ok" or "FAIL" with
what was expected; the last line is "N passed, N failed, N skipped" (a skip
names why and happens only where the machine lacks a facility, e.g. no
writable memory cgroup). Exit status: 0 iff nothing failed.
"""
import argparse
import csv
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import jsonschema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promtext  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
MIB = 1024 * 1024
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]

passed = failed = skipped = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok    %s" % name)
    else:
        failed += 1
        print("FAIL  %s%s" % (name, (": " + detail) if detail else ""))
    return bool(cond)


def skip(name, why):
    global skipped
    skipped += 1
    print("SKIP  %s: %s" % (name, why))


class Memstat:
    def __init__(self, path):
        self.path = path

    def run(self, *args, user=None, timeout=60):
        cmd = (NOBODY if user == "nobody" else []) + [self.path] + [str(a) for a in args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def json(self, *args, user=None):
        rc, out, err = self.run("--json", *args, user=user)
        return rc, (json.loads(out) if out.strip() else None), err


class Workload:
    """tests/memstat/alloc.lua KIND [MB] on a LuaJIT, blocked on stdin once ready."""

    def __init__(self, luajit, kind, mb=50, env=None, user=None, cgroup=None):
        e = dict(os.environ)
        e.pop("LUAJIT_RECLAIM", None)
        e.update(env or {})
        cmd = (NOBODY if user == "nobody" else []) + [luajit, os.path.join(HERE, "alloc.lua"),
                                                      kind, str(mb)]
        pre = (lambda: open(cgroup, "w").write(str(os.getpid()))) if cgroup else None
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  env=e, preexec_fn=pre, text=True)
        self.pid = self.p.pid
        self.kind = kind
        self.gc_bytes = None

    def ready(self, timeout=120):
        import select
        end = time.time() + timeout
        line = ""
        while time.time() < end:
            r, _, _ = select.select([self.p.stdout], [], [], end - time.time())
            if r:
                line = self.p.stdout.readline()
                break
        if not line.startswith("ready "):
            raise RuntimeError("alloc.lua %s (PID %d) did not get ready: %r"
                               % (self.kind, self.pid, line))
        self.gc_bytes = int(line.split()[1])
        return self

    def stop(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def registry_rows():
    """(field, metric, type) of every RCL_REGISTRY_FIGURES row."""
    hdr = open(os.path.join(TOP, "runtime/reclaim/rcl_registry.h")).read()
    return re.findall(r'^\s*X\((\w+), "(\w+)", "(\w+)",', hdr, re.M)


def registry_figures():
    return [f for f, _, _ in registry_rows()]


def run_on_pty(cmd):
    """The bytes cmd writes to a terminal."""
    import pty
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.DEVNULL)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    p.wait()
    return out


def maps_registry(pid):
    try:
        return "luajit-reclaim-registry" in open("/proc/%d/maps" % pid).read()
    except OSError:
        return False


def proc_of(doc, pid):
    for p in doc["processes"]:
        if p["pid"] == pid:
            return p
    return None


REGISTRY_VERSION = 2   # rcl_registry.h's RCL_REGISTRY_VERSION (2: the mesh figures)


# -- Figures of one process running our runtime -------------------------------------

def check_figures(name, p, w, figs, page_size, version, nheaps):
    check(name + ": registry read, version %d, this page size, our version" % REGISTRY_VERSION,
          len(p["registries"]) == 1 and p["registries"][0]["ok"]
          and p["registries"][0]["version"] == REGISTRY_VERSION
          and p["registries"][0]["page_size"] == page_size
          and p["registries"][0]["lib_version"] == version, json.dumps(p["registries"]))
    heaps = p["heaps"]
    reg = p["registries"][0]
    check(name + ": %d heap(s), none busy, created - destroyed = listed" % nheaps,
          len(heaps) == nheaps and not any(h["busy"] for h in heaps)
          and reg["heaps_created"] - reg["heaps_destroyed"] == nheaps,
          "heaps %d, registry %s" % (len(heaps), reg))
    t = p["heap_total"]
    check(name + ": heap resident <= VmRSS", t["resident"] <= p["status"]["vm_rss"],
          "%d > %d" % (t["resident"], p["status"]["vm_rss"]))
    sums_ok = all(t[f] == sum(h[f] for h in heaps) for f in figs if f != "soft_limit")
    check(name + ": heap_total is the sum over the heaps", sums_ok)
    check(name + ": rest_of_rss = VmRSS - heap resident",
          p["rest_of_rss"] == max(0, p["status"]["vm_rss"] - t["resident"]))
    for h in heaps:
        tag = "%s: heap slot %d" % (name, h["slot"])
        check(tag + ": resident >= in_use", h["resident"] >= h["in_use"],
              "%d < %d" % (h["resident"], h["in_use"]))
        check(tag + ": fragmentation = 1 - in_use/resident",
              abs(h["fragmentation"] - (1 - h["in_use"] / h["resident"])) < 1e-5)
        if not check(tag + ": its last publish was a walk (full GC)",
                     h["walked_ms"] == h["published_ms"],
                     "walked %d, published %d" % (h["walked_ms"], h["published_ms"])):
            continue
        check(tag + ": mapped >= resident >= in_use",
              h["mapped"] >= h["resident"] >= h["in_use"],
              "mapped %d resident %d in_use %d" % (h["mapped"], h["resident"], h["in_use"]))
        check(tag + ": resident = metadata + in_use + free_dirty",
              h["resident"] == h["metadata"] + h["in_use"] + h["free_dirty"])
        check(tag + ": mapped = resident + free_clean",
              h["mapped"] == h["resident"] + h["free_clean"],
              "mapped %d, resident %d, free_clean %d" % (h["mapped"], h["resident"],
                                                        h["free_clean"]))
        # Blocks are rounded up to their size class: 7% at most above 256 bytes, 16-byte
        # steps below. The live workload is ~50-byte strings and 24-byte array parts
        # (rounded to 64 and 32), so it is allowed 15%.
        slack = 1.15 if w.kind == "live" else 1.07
        lo, hi = h["gc_total"], h["gc_total"] * slack + MIB
        check(tag + ": in_use within [gc_total, gc_total*%.2f + 1 MiB]" % slack,
              lo <= h["in_use"] <= hi, "in_use %d, gc_total %d" % (h["in_use"], h["gc_total"]))
    main = min(heaps, key=lambda h: h["created_ms"])
    check(name + ": the main state's gc_total is what collectgarbage('count') said",
          abs(main["gc_total"] - w.gc_bytes) <= 64 * 1024,
          "gc_total %d, Lua said %d" % (main["gc_total"], w.gc_bytes))


# -- Registry tampering: process_vm_writev into a live registry ----------------------

class IOVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


libc = ctypes.CDLL(None, use_errno=True)


def remote(pid, addr, data=None, size=0):
    """Read size bytes at addr of pid, or write data there."""
    buf = ctypes.create_string_buffer(data if data is not None else size)
    n = len(buf.raw) if data is None else len(data)
    local = IOVec(ctypes.cast(buf, ctypes.c_void_p), n)
    rem = IOVec(addr, n)
    fn = libc.process_vm_readv if data is None else libc.process_vm_writev
    fn.restype = ctypes.c_ssize_t
    got = fn(pid, ctypes.byref(local), 1, ctypes.byref(rem), 1, 0)
    if got != n:
        raise OSError(ctypes.get_errno(), "process_vm_%s PID %d" %
                      ("readv" if data is None else "writev", pid))
    return buf.raw[:n]


def u32(b, off):
    return int.from_bytes(b[off:off + 4], "little")


def u64(b, off):
    return int.from_bytes(b[off:off + 8], "little")


# -- The memory cgroup of this process, for a child with a limit --------------------

def make_cgroup(name):
    """A new memory cgroup under ours: (dir, procs file, limit file, usage file,
    version), or a reason string why it cannot be made here."""
    mounts = {}
    for line in open("/proc/self/mountinfo"):
        left, right = line.split(" - ", 1)
        f, r = left.split(), right.split()
        if r[0] == "cgroup2":
            mounts.setdefault(2, (f[3], f[4]))
        elif r[0] == "cgroup" and "memory" in r[2].split(","):
            mounts.setdefault(1, (f[3], f[4]))
    path1 = path2 = None
    for line in open("/proc/self/cgroup"):
        hid, ctrl, path = line.rstrip("\n").split(":", 2)
        if hid == "0":
            path2 = path
        elif "memory" in ctrl.split(","):
            path1 = path
    version = 1 if path1 is not None else 2
    if version not in mounts:
        return "no memory cgroup hierarchy is mounted"
    root, mnt = mounts[version]
    path = path1 if version == 1 else path2
    if root != "/" and path.startswith(root):
        path = path[len(root):]
    parent = mnt + path
    d = os.path.join(parent, name)
    try:
        if version == 2:
            with open(os.path.join(parent, "cgroup.subtree_control"), "w") as f:
                f.write("+memory")
        os.mkdir(d)
    except OSError as e:
        return "cannot make a memory cgroup in %s (v%d): %s" % (parent, version, e)
    if version == 1:
        return d, d + "/cgroup.procs", d + "/memory.limit_in_bytes", \
            d + "/memory.usage_in_bytes", 1
    return d, d + "/cgroup.procs", d + "/memory.max", d + "/memory.current", 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memstat", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--version", required=True)
    a = ap.parse_args()
    ms = Memstat(os.path.abspath(a.memstat))
    build = os.path.abspath(a.build)
    luajit = os.path.join(build, "x86_64/bin/luajit")
    stock = os.path.join(build, "stock-x86_64/bin/luajit")
    schema = json.load(open(os.path.join(HERE, "schema.json")))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    figs = registry_figures()
    page = os.sysconf("SC_PAGESIZE")
    tmp = tempfile.mkdtemp(prefix="memstat-")
    os.chmod(tmp, 0o755)
    started = []

    def valid(name, doc):
        errs = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        return check(name + ": JSON valid against tests/memstat/schema.json", not errs,
                     "; ".join("%s: %s" % (list(e.path), e.message) for e in errs[:3]))

    def start(*args, **kw):
        w = Workload(*args, **kw)
        started.append(w)
        return w

    try:
        # -- Command line ------------------------------------------------------------
        rc, out, _ = ms.run("--help")
        check("--help: exit 0, usage text", rc == 0 and out.startswith("usage: luajit-memstat"))
        rc, out, _ = ms.run("--version")
        check("--version: our version and registry version %d" % REGISTRY_VERSION,
              rc == 0 and (" %s;" % a.version) in out
              and "registry version %d" % REGISTRY_VERSION in out, out)
        for args in ([], ["--json", "--prometheus", "1"], ["abc"], ["--count", "2", "1"],
                     ["--all", "1"], ["--watch", "0", "1"], ["--bogus", "1"], ["--nginx"],
                     ["--nginx", "1", "2"], ["-1"]):
            rc, _, err = ms.run(*args)
            check("usage error %s: exit 2 with a hint" % (args,),
                  rc == 2 and "Try 'luajit-memstat --help'" in err, "rc %d, %r" % (rc, err))
        for f in sorted(os.listdir(os.path.join(TOP, "runtime/tools/memstat"))):
            n = sum(1 for _ in open(os.path.join(TOP, "runtime/tools/memstat", f)))
            check("runtime/tools/memstat/%s under 700 lines" % f, n < 700, "%d lines" % n)

        # -- Processes on our runtime --------------------------------------------------
        frag = start(luajit, "fragmented")
        live = start(luajit, "live")
        freed = start(luajit, "freed", env={"LUAJIT_RECLAIM": "mode=off"})
        garb = start(luajit, "garbage", env={"LUAJIT_RECLAIM":
                                             "background=true,background_interval=50"})
        sleeper = subprocess.Popen(["sleep", "300"])
        for w in (frag, live, freed, garb):
            w.ready()

        rc, doc, err = ms.json(frag.pid, live.pid, freed.pid)
        check("three of our processes: exit 0, nothing on stderr", rc == 0 and not err, err)
        valid("three of our processes", doc)
        for w, n in ((frag, 3), (live, 1), (freed, 1)):
            p = proc_of(doc, w.pid)
            if check("%s: in the output" % w.kind, p is not None):
                check_figures(w.kind, p, w, figs, page, a.version, n)
        rules = {w.kind: proc_of(doc, w.pid)["diagnosis"] for w in (frag, live, freed)}
        check("fragmented: diagnosis fragmented", rules["fragmented"]["rule"] == "fragmented",
              str(rules["fragmented"]))
        check("live: diagnosis live_fills ('live data fills the heap: nothing to return')",
              rules["live"]["rule"] == "live_fills" and rules["live"]["text"].startswith(
                  "live data fills the heap: nothing to return"), str(rules["live"]))
        check("freed with mode=off: diagnosis free_dirty naming mode=off",
              rules["freed"]["rule"] == "free_dirty" and "is free and not yet returned"
              in rules["freed"]["text"] and "mode=off" in rules["freed"]["text"],
              str(rules["freed"]))
        check("freed with mode=off: the heap says mode off",
              proc_of(doc, freed.pid)["heaps"][0]["mode"] == "off")

        # The idle pass of the background thread walks the heap: the garbage shows.
        rule = None
        for _ in range(100):
            rc, d, err = ms.json(garb.pid)
            rule = d["processes"][0]["diagnosis"]
            if rule["rule"] == "garbage":
                break
            time.sleep(0.1)
        check("GC stopped, 50 MB dropped, background on: diagnosis garbage",
              rule["rule"] == "garbage" and "is garbage not yet collected" in rule["text"],
              str(rule))
        h = d["processes"][0]["heaps"][0]
        check("garbage: in_use - gc_estimate is the 50 MB dropped",
              h["in_use"] - h["gc_estimate"] >= 40 * MIB and h["background"], str(h))

        rc, out, err = ms.run(frag.pid)
        check("table: exit 0", rc == 0, err)
        for want in ("PID %d  luajit" % frag.pid, "  RSS  ", "  Lua heaps    resident",
                     "  rest of RSS  ", "  diagnosis    fragmented: "):
            check("table shows %r" % want.strip(), want in out)
        sizes = re.findall(r"(\d+(?:\.\d)? (?:B|KiB|MiB|GiB|TiB))", out)
        check("table: figures in human units with one decimal",
              len(sizes) > 20 and all(re.fullmatch(r"\d+ B|\d+\.\d [KMGT]iB", s) for s in sizes))

        # -- Prometheus ----------------------------------------------------------------
        rc, out, err = ms.run("--prometheus", frag.pid, live.pid, sleeper.pid)
        try:
            fams = promtext.parse(out)
            check("prometheus: strict parse (HELP/TYPE/sample lines, one TYPE each)", True)
        except ValueError as e:
            fams = {}
            check("prometheus: strict parse", False, str(e))
        rows = registry_rows()
        heap_fams = ["luajit_reclaim_" + m for _, m, _ in rows]
        check("prometheus: one family per RCL_REGISTRY_FIGURES row, with HELP",
              all(f in fams and fams[f]["help"] for f in heap_fams),
              str([f for f in heap_fams if f not in fams]))
        check("prometheus: families have the header's types; counters end in _total",
              all(fams["luajit_reclaim_" + m]["type"] == t and (t == "counter") == m.endswith("_total")
                  for _, m, t in rows if "luajit_reclaim_" + m in fams))
        check("prometheus: every heap family has 4 samples labelled pid and heap",
              all(len(fams[f]["samples"]) == 4 and all(set(l) == {"pid", "heap"}
                  for l, _ in fams[f]["samples"]) for f in heap_fams))
        rss = fams.get("luajit_reclaim_process_rss_bytes", {"samples": []})["samples"]
        check("prometheus: luajit_reclaim_process_rss_bytes for the 3 processes, label pid",
              sorted(int(l["pid"]) for l, _ in rss) == sorted([frag.pid, live.pid, sleeper.pid])
              and all(set(l) == {"pid"} and v > 0 for l, v in rss))
        diag = fams.get("luajit_reclaim_process_diagnosis", {"samples": []})["samples"]
        check("prometheus: diagnosis family names the rules",
              {(int(l["pid"]), l["rule"]) for l, _ in diag} ==
              {(frag.pid, "fragmented"), (live.pid, "live_fills"), (sleeper.pid, "not_reclaim")})
        check("prometheus: no read errors",
              fams.get("luajit_reclaim_memstat_read_errors", {}).get("samples") == [({}, 0)])
        p = subprocess.run(["promtool", "check", "metrics"], input=out, capture_output=True,
                           text=True)
        lint = [l for l in p.stderr.splitlines() if l.strip()]
        check("promtool check metrics: parses and lints clean",
              p.returncode == 0 and not lint, "rc %d: %s" % (p.returncode, lint))

        # -- Processes without our runtime ----------------------------------------------
        rc, doc, err = ms.json(sleeper.pid)
        p = doc and proc_of(doc, sleeper.pid)
        valid("sleep", doc)
        check("sleep: exit 0, not_reclaim, /proc figures still shown",
              rc == 0 and p["diagnosis"]["text"] == "not using luajit-reclaim: no registry "
              "in /proc/%d/maps and no libluajit-5.1.so mapped" % sleeper.pid
              and p["registries"] == [] and p["heap_total"] is None
              and p["status"]["vm_rss"] > 0, json.dumps(p))
        if os.path.exists(stock):
            sw = subprocess.Popen([stock, "-e", "io.read('*a')"], stdin=subprocess.PIPE)
            time.sleep(0.3)
            rc, doc, err = ms.json(sw.pid)
            t = doc["processes"][0]["diagnosis"]["text"] if doc else ""
            check("stock LuaJIT: not using luajit-reclaim, names its executable",
                  rc == 0 and t.startswith("not using luajit-reclaim: no registry in /proc/%d/"
                                           "maps" % sw.pid)
                  and os.path.realpath(stock) in t and "LuaJIT linked in" in t, t)
            lib = os.path.join(build, "stock-x86_64/lib/libluajit-5.1.so.2")
            pre = subprocess.Popen(["sleep", "300"], env=dict(os.environ, LD_PRELOAD=lib))
            time.sleep(0.3)
            rc, doc, err = ms.json(pre.pid)
            p = doc["processes"][0]
            check("a process mapping stock libluajit: names the file",
                  rc == 0 and p["luajit_library"] == os.path.realpath(lib)
                  and os.path.realpath(lib) in p["diagnosis"]["text"]
                  and p["diagnosis"]["rule"] == "not_reclaim", json.dumps(p["diagnosis"]))
            sw.stdin.close()
            sw.wait()
            pre.kill()
            pre.wait()
        else:
            check("stock LuaJIT build present (make stock-x86_64)", False, stock)

        # -- PIDs that cannot be read ----------------------------------------------------
        gone = int(open("/proc/sys/kernel/pid_max").read())  # PIDs are below pid_max
        rc, doc, err = ms.json(live.pid, gone)
        check("a PID that does not exist: exit 1, named on stderr, the others shown",
              rc == 1 and "luajit-memstat: PID %d: no such process" % gone in err
              and proc_of(doc, live.pid) is not None
              and doc["errors"] == [{"pid": gone, "error": "no such process"}], err)
        rc, out, err = ms.run(live.pid, user="nobody")
        check("as nobody, a root process: exit 1, names the PID, the file and the permission",
              rc == 1 and ("PID %d: cannot read /proc/%d/maps: Permission denied"
                           % (live.pid, live.pid)) in err and "CAP_SYS_PTRACE" in err, err)
        mine = start(luajit, "live", 4, user="nobody").ready()
        rc, doc, err = ms.json(mine.pid, live.pid, user="nobody")
        p = doc and proc_of(doc, mine.pid)
        check("as nobody: its own process is read, the root one is an error",
              rc == 1 and p is not None and len(p["heaps"]) == 1
              and proc_of(doc, live.pid) is None and doc["errors"][0]["pid"] == live.pid, err)
        rc, doc, err = ms.json("--all", user="nobody")
        pids = {p["pid"] for p in doc["processes"]}
        check("as nobody, --all: exit 0, its process listed, root's counted as uninspected",
              rc == 0 and mine.pid in pids and live.pid not in pids
              and doc["uninspected"] > 0, "rc %d, %s, %s" % (rc, pids, err))

        # -- Registry faults, made in a live registry -----------------------------------
        rc, doc, err = ms.json(live.pid)
        addr = int(doc["processes"][0]["registries"][0]["address"], 16)
        head = remote(live.pid, addr, size=64)
        hsize = u32(head, 28)
        remote(live.pid, addr + 24, (REGISTRY_VERSION + 1).to_bytes(4, "little"))
        rc, doc, err = ms.json(live.pid)
        remote(live.pid, addr + 24, REGISTRY_VERSION.to_bytes(4, "little"))
        p = doc["processes"][0]
        check("registry of another version: exit 1, names the version found",
              rc == 1 and "PID %d: registry version %d" % (live.pid, REGISTRY_VERSION + 1) in err
              and "reads version %d" % REGISTRY_VERSION in err and p["diagnosis"]["rule"] == "registry_error"
              and not p["registries"][0]["ok"], err)
        seq = u64(remote(live.pid, addr + hsize, size=8), 0)
        remote(live.pid, addr + hsize, (seq | 1).to_bytes(8, "little"))
        t0 = time.time()
        rc, doc, err = ms.json(live.pid)
        took = time.time() - t0
        remote(live.pid, addr + hsize, seq.to_bytes(8, "little"))
        p = doc["processes"][0]
        check("a slot whose seq stays odd: reported busy without figures, exit 0",
              rc == 0 and p["heaps"] == [{"registry": 0, "slot": 0, "heap": p["heaps"][0]["heap"],
                                          "busy": True}]
              and p["heap_total"]["busy"] == 1 and p["diagnosis"]["rule"] == "busy"
              and took < 5, json.dumps(p["heaps"]))
        valid("busy slot", doc)
        rc, doc, err = ms.json(live.pid)
        check("the registry restored: read again", rc == 0 and not doc["processes"][0]["heaps"][0]
              ["busy"])

        # -- --all and --nginx -------------------------------------------------------------
        rc, doc, err = ms.json("--all")
        pids = {p["pid"] for p in doc["processes"]}
        valid("--all", doc)
        check("--all: our four workloads and nobody's, not sleep",
              rc == 0 and {frag.pid, live.pid, freed.pid, garb.pid, mine.pid} <= pids
              and sleeper.pid not in pids
              and all(p["registries"] for p in doc["processes"]), "%s, %s" % (pids, err))
        # Like nginx: a master (sleep, after sh's exec) and workers that block on the
        # master's stdin (an asynchronous list would get /dev/null).
        master = subprocess.Popen(
            ["sh", "-c", 'exec 3<&0; "$0" "$1" live 2 <&3 & "$0" "$1" live 2 <&3 & '
             'exec sleep 300', luajit, os.path.join(HERE, "alloc.lua")],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)
        kids = set()
        for _ in range(100):
            time.sleep(0.1)
            kids = set()
            for d in os.listdir("/proc"):
                try:
                    st = open("/proc/%s/stat" % d).read()
                except (OSError, ValueError):
                    continue
                if int(st.rsplit(")", 1)[1].split()[1]) == master.pid:
                    kids.add(int(d))
            if len(kids) == 2 and all(maps_registry(k) for k in kids):
                break
        rc, doc, err = ms.json("--nginx", master.pid)
        os.killpg(master.pid, signal.SIGKILL)
        master.wait()
        got = {p["pid"]: p for p in doc["processes"]}
        reclaim = [p for p in got.values() if p["heaps"]]
        check("--nginx: the master and its 2 children", rc == 0 and len(kids) == 2
              and set(got) == kids | {master.pid}, "%s vs %s" % (set(got), kids))
        check("--nginx: two children on our runtime, one heap each",
              len(reclaim) == 2 and all(len(p["heaps"]) == 1 for p in reclaim))
        rc, _, err = ms.run("--nginx", gone)
        check("--nginx with a master that does not exist: exit 1",
              rc == 1 and "PID %d: no such process" % gone in err, err)

        # -- --watch, --count, --record, --output -------------------------------------------
        t0 = time.time()
        rc, out, err = ms.run("--watch", "0.3", "--count", "3", live.pid)
        took = time.time() - t0
        check("--watch 0.3 --count 3: three samples, 0.6 s apart at least",
              rc == 0 and [int(n) for n in re.findall(r"sample (\d) of 3", out)] == [1, 2, 3]
              and out.count("PID %d  luajit" % live.pid) == 3 and took >= 0.6,
              "took %.2f s" % took)
        check("--watch into a pipe: no terminal escapes", "\x1b" not in out)
        pty_out = run_on_pty([ms.path, "--watch", "0.1", "--count", "2", str(live.pid)])
        check("--watch on a terminal: each sample clears and redraws the screen",
              pty_out.count(b"\x1b[H\x1b[2J") == 2 and pty_out.startswith(b"\x1b[H\x1b[2J"),
              repr(pty_out[:80]))
        rc, out, err = ms.run("--json", "--watch", "0.2", "--count", "3", live.pid)
        docs = [json.loads(l) for l in out.splitlines()]
        check("--json --watch: one document a line, times increasing",
              rc == 0 and len(docs) == 3 and docs[0]["time"] < docs[1]["time"] < docs[2]["time"])
        valid("--json --watch sample 3", docs[-1])
        rec = os.path.join(tmp, "rec.csv")
        for _ in range(2):
            rc, _, err = ms.run("--watch", "0.2", "--count", "2", "--record", rec,
                                live.pid, sleeper.pid)
        rows = list(csv.reader(open(rec)))
        head = rows[0]
        check("--record twice, 2 samples of 2 processes: one header, 8 rows",
              rc == 0 and len(rows) == 9 and rows.count(head) == 1
              and all(len(r) == len(head) for r in rows), "%d rows" % len(rows))
        col = {c: i for i, c in enumerate(head)}
        check("--record: the columns hold the figures",
              all(c in col for c in ("time", "pid", "vm_rss", "resident", "in_use",
                                     "rest_rss", "diagnosis_rule"))
              and {int(r[col["pid"]]) for r in rows[1:]} == {live.pid, sleeper.pid}
              and all(r[col["resident"]] == "" for r in rows[1:]
                      if int(r[col["pid"]]) == sleeper.pid)
              and all(int(r[col["resident"]]) <= int(r[col["vm_rss"]]) for r in rows[1:]
                      if int(r[col["pid"]]) == live.pid))
        bad = os.path.join(tmp, "bad.csv")
        open(bad, "w").write("a,b,c\n1,2,3\n")
        rc, _, err = ms.run("--record", bad, live.pid)
        check("--record into a file with another header: exit 2, named",
              rc == 2 and bad in err and "other columns" in err, err)
        prom = os.path.join(tmp, "out.prom")
        rc, out, err = ms.run("--prometheus", "--output", prom, "--watch", "0.1", "--count",
                              "2", live.pid)
        try:
            promtext.parse(open(prom).read())
            parsed = True
        except (OSError, ValueError):
            parsed = False
        check("--output: nothing on stdout, the file parses, no temporary left",
              rc == 0 and out == "" and parsed and os.listdir(tmp).count("out.prom") == 1
              and not [f for f in os.listdir(tmp) if ".tmp." in f])

        # -- A memory cgroup with a limit ----------------------------------------------------
        cg = make_cgroup("memstat-test-%d" % os.getpid())
        if isinstance(cg, str):
            skip("cgroup limit and headroom", cg)
        else:
            d, procs, limitf, usagef, ver = cg
            try:
                w = start(luajit, "live", 8, cgroup=procs).ready()
                usage = int(open(usagef).read())
                open(limitf, "w").write(str(usage + usage // 20))
                rc, doc, err = ms.json(w.pid)
                p = doc["processes"][0]
                c = p["cgroup"]
                limit = int(open(limitf).read())
                check("cgroup v%d: limit, usage and headroom of our cgroup" % ver,
                      rc == 0 and c is not None and c["version"] == ver
                      and c["limit"] == limit and c["limit_path"].endswith(os.path.basename(d))
                      and c["headroom"] == max(0, c["limit"] - c["usage"]), json.dumps(c))
                check("cgroup: less than 10% headroom: diagnosis cgroup_limit",
                      p["diagnosis"]["rule"] == "cgroup_limit", json.dumps(p["diagnosis"]))
                valid("cgroup", doc)
                w.stop()
            finally:
                for w in started:
                    w.stop()
                for _ in range(50):
                    try:
                        os.rmdir(d)
                        break
                    except OSError:
                        time.sleep(0.1)

        # -- The man page -----------------------------------------------------------------------
        man = os.path.join(TOP, "runtime/doc/luajit-memstat.1")
        p = subprocess.run(["groff", "-man", "-ww", "-z", man], capture_output=True, text=True)
        check("man page: groff -man -ww reports nothing", p.returncode == 0 and not p.stderr,
              p.stderr)
        p = subprocess.run(["man", "--warnings", "-l", man], capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MANPAGER="cat"))
        text = p.stdout
        check("man -l renders it, no warnings", p.returncode == 0 and not p.stderr, p.stderr)
        check("man page sections", all(("\n%s\n" % s) in text for s in (
            "NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "OUTPUT", "DIAGNOSIS",
            "EXIT STATUS", "EXAMPLES", "SEE ALSO")) and "luajit-reclaim(7)" in text)
        src = open(os.path.join(TOP, "runtime/tools/memstat/diagnose.c")).read()
        rules = re.findall(r'say\(p, "(\w+)"', src)
        check("man page: every diagnosis rule of diagnose.c and of the schema",
              set(rules) == set(schema["properties"]["processes"]["items"]["properties"]
                                ["diagnosis"]["properties"]["rule"]["enum"])
              and all(re.search(r"^\.B %s$" % r, open(man).read(), re.M) for r in rules),
              str(rules))
        check("man page: every heap figure", all(f in text for f in figs))
    finally:
        for w in started:
            w.stop()
        if "sleeper" in locals():
            sleeper.kill()
            sleeper.wait()
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
