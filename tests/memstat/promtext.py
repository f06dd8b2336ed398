"""tests/memstat/promtext.py: a strict parser of the Prometheus text format as
luajit-memstat writes it (a subset of the format, checked more strictly than
Prometheus does).

parse(text) returns {family: {"help": str, "type": str, "samples": [(labels, value)]}}
in order of appearance, or raises ValueError naming the line. Rules: every line
is a HELP, a TYPE or a sample line (no blank lines, no other comments); names and
label names are valid; HELP then TYPE come once per family, before its samples;
a family's samples are contiguous and never repeat a label set; TYPE is gauge or
counter; values are non-negative integers.
"""
import re

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
HELP_RE = re.compile(r"^# HELP (%s) (.*)$" % NAME)
TYPE_RE = re.compile(r"^# TYPE (%s) (gauge|counter)$" % NAME)
SAMPLE_RE = re.compile(r"^(%s)(\{.*\})? ([0-9]+)$" % NAME)
PAIR_RE = re.compile(r'(%s)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"' % LABEL)


def parse_labels(body, where):
    labels = {}
    inner = body[1:-1]
    pos = 0
    while pos < len(inner):
        m = PAIR_RE.match(inner, pos)
        if not m:
            raise ValueError("%s: bad label syntax at %r" % (where, inner[pos:]))
        if m.group(1) in labels:
            raise ValueError("%s: label %s twice" % (where, m.group(1)))
        labels[m.group(1)] = (m.group(2).replace("\\n", "\n").replace('\\"', '"')
                              .replace("\\\\", "\\"))
        pos = m.end()
        if pos < len(inner):
            if inner[pos] != ",":
                raise ValueError("%s: expected ',' between labels" % where)
            pos += 1
            if pos == len(inner):
                raise ValueError("%s: trailing ','" % where)
    return labels


def parse(text):
    families = {}
    current = None       # family whose samples may follow
    closed = set()       # families whose samples ended
    if not text.endswith("\n"):
        raise ValueError("the text does not end with a newline")
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = "line %d" % n
        m = HELP_RE.match(line)
        if m:
            name = m.group(1)
            if name in families:
                raise ValueError("%s: second HELP for %s" % (where, name))
            if current:
                closed.add(current)
            families[name] = {"help": m.group(2), "type": None, "samples": []}
            current = name
            continue
        m = TYPE_RE.match(line)
        if m:
            name = m.group(1)
            fam = families.get(name)
            if name != current or fam is None or fam["type"] is not None or fam["samples"]:
                raise ValueError("%s: TYPE for %s not right after its HELP, or twice"
                                 % (where, name))
            fam["type"] = m.group(2)
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise ValueError("%s: neither HELP, TYPE nor a sample: %r" % (where, line))
        name = m.group(1)
        if name != current or name in closed:
            raise ValueError("%s: sample of %s outside its family's block" % (where, name))
        fam = families[name]
        if fam["type"] is None:
            raise ValueError("%s: sample of %s before its TYPE" % (where, name))
        labels = parse_labels(m.group(2), where) if m.group(2) else {}
        key = tuple(sorted(labels.items()))
        if any(tuple(sorted(l.items())) == key for l, _ in fam["samples"]):
            raise ValueError("%s: %s%s repeated" % (where, name, m.group(2) or ""))
        fam["samples"].append((labels, int(m.group(3))))
    for name, fam in families.items():
        if fam["type"] is None:
            raise ValueError("family %s has no TYPE" % name)
    return families
