#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""compare.py - check the Wireshark dissector against the wire decoder.

  compare.py TSHARK HOMA_LUA HOMA_PCAP_DUMP [--expect TYPES] [--pref P]
             CAPTURE...

For every capture, homa-pcap-dump prints what homa_wire_decode reads from
each Homa frame (its header line names the columns with the dissector's
field names), and tshark with homa.lua prints the same fields. The test
fails unless, for every frame:
  - a frame the decoder accepts is dissected as Homa with every field equal
    to the decoder's, and has no error-level expert info;
  - a frame the decoder rejects with reason R carries expert info tagged
    [R] (or, for UDP, was not taken for Homa by the heuristic); one whose
    header the capture cut (TRUNCATED) has expert info saying so;
  - no frame the dump skipped is dissected as Homa (ICMP errors quoting a
    Homa header excepted), and no frame anywhere has a Lua error.
--expect DATA,GRANT,... requires these types among the accepted frames of
all captures together. --pref homa.udp_ports:N passes a preference.
Exit 0 if all hold, 1 otherwise (every mismatch printed, up to a limit).
"""
import subprocess
import sys

NAMES = {"0x10": "DATA", "0x11": "GRANT", "0x12": "RESEND",
         "0x13": "RPC_UNKNOWN", "0x14": "BUSY", "0x15": "CUTOFFS",
         "0x16": "FREEZE", "0x17": "NEED_ACK", "0x18": "ACK"}
# Reasons after which the decoder cannot read the packet at all.
FATAL = ("SHORT", "BAD_TYPE", "SHORT_TYPE")
# A doff other than the one senders write is flagged by the dissector even
# when the decoder (or a receiver) accepts it.
TOLERATED_ON_OK = ("BAD_DOFF",)
# The doff senders write, by type: the UDP heuristic takes only these
# (it must tell Homa from other UDP traffic), while the decoder accepts
# any doff, as the kernel does (an old kernel sends control packets with
# doff 0). An accepted UDP frame with another doff may be left alone by
# the heuristic; with the port preference it is dissected and compared.
SENDER_DOFF = {"0x10": ("0xe0", "0xd0")}
CONTROL_DOFF = ("0x50",)
ERROR_SEVERITY = 0x00800000
MAX_REPORTS = 20


def run(cmd):
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    if res.returncode != 0:
        sys.exit("FAIL: %s exited %d: %s" % (cmd[0], res.returncode,
                                             res.stderr.strip()))
    return res.stdout


def read_dump(dump, capture):
    lines = run([dump, capture]).splitlines()
    if not lines or not lines[0].startswith("#"):
        sys.exit("FAIL: %s printed no header" % dump)
    cols = lines[0][1:].split("\t")
    rows = {}
    for line in lines[1:]:
        vals = line.split("\t")
        row = dict(zip(cols, vals + [""] * (len(cols) - len(vals))))
        rows[int(row["frame.number"])] = row
    return cols, rows


def read_tshark(tshark, lua, prefs, capture, fields):
    extra = ["_ws.expert.message", "_ws.expert.severity", "icmp.type",
             "icmpv6.type", "udp.srcport", "frame.protocols"]
    cmd = [tshark, "-n", "-X", "lua_script:" + lua, "-r", capture,
           "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
           "-E", "aggregator=|"]
    for p in prefs:
        cmd += ["-o", p]
    for f in fields + extra:
        cmd += ["-e", f]
    rows = {}
    for line in run(cmd).splitlines():
        vals = line.split("\t")
        row = dict(zip(fields + extra, vals + [""] * 99))
        for f in fields:
            row[f] = row[f].replace("|", ",")
        rows[int(row["frame.number"])] = row
    return rows


def compare(args):
    tshark, lua, dump = args[0], args[1], args[2]
    expect, prefs, captures = [], [], []
    i = 3
    while i < len(args):
        if args[i] == "--expect":
            expect = args[i + 1].split(",")
            i += 2
        elif args[i] == "--pref":
            prefs.append(args[i + 1])
            i += 2
        else:
            captures.append(args[i])
            i += 1
    seen_types = {}
    problems = []

    def problem(capture, frame, text):
        problems.append("%s frame %d: %s" % (capture, frame, text))

    for capture in captures:
        cols, drows = read_dump(dump, capture)
        fields = [c for c in cols if c != "verdict"]
        trows = read_tshark(tshark, lua, prefs, capture, fields)
        counts = {}
        for frame, t in trows.items():
            msgs = t["_ws.expert.message"]
            if "Lua Error" in msgs:
                problem(capture, frame, "Lua error: " + msgs)
            t["taken"] = ":homa" in t["frame.protocols"]
            if frame not in drows and t["taken"] and \
                    not (t["icmp.type"] or t["icmpv6.type"]):
                problem(capture, frame, "dissected as Homa, but the "
                        "decoder's dump has no Homa packet there")
        for frame, d in sorted(drows.items()):
            t = trows.get(frame)
            verdict = d["verdict"]
            counts[verdict] = counts.get(verdict, 0) + 1
            if t is None:
                problem(capture, frame, "missing from tshark's output")
                continue
            msgs = t["_ws.expert.message"]
            sev = [int(s) for s in t["_ws.expert.severity"].split("|") if s]
            if verdict != "OK":
                if not t["taken"] and t["udp.srcport"]:
                    counts["not-taken-by-heuristic"] = \
                        counts.get("not-taken-by-heuristic", 0) + 1
                elif verdict == "TRUNCATED":
                    if "captured" not in msgs:
                        problem(capture, frame, "header cut by the capture, "
                                "but no expert info says so: " + msgs)
                elif "[%s]" % verdict not in msgs:
                    problem(capture, frame, "decoder says %s, dissector's "
                            "expert info: '%s'" % (verdict, msgs))
                continue
            if not t["taken"] and t["udp.srcport"] and d["homa.doff"] not in \
                    SENDER_DOFF.get(d["homa.type"], CONTROL_DOFF):
                counts["odd-doff-not-taken-by-heuristic"] = \
                    counts.get("odd-doff-not-taken-by-heuristic", 0) + 1
                continue
            name = NAMES.get(d["homa.type"], d["homa.type"])
            seen_types[name] = seen_types.get(name, 0) + 1
            diffs = ["%s: decoder %r, dissector %r" % (f, d[f], t[f])
                     for f in fields if d[f] != t[f]]
            if diffs:
                problem(capture, frame, "; ".join(diffs))
            if any(s >= ERROR_SEVERITY for s in sev):
                problem(capture, frame, "accepted by the decoder, but "
                        "error expert info: " + msgs)
            for reason in ("SHORT", "BAD_TYPE", "SHORT_TYPE", "BAD_DOFF",
                           "BAD_MSG_LEN", "DATA_RANGE"):
                if "[%s]" % reason in msgs and reason not in TOLERATED_ON_OK:
                    problem(capture, frame, "accepted by the decoder, but "
                            "the dissector says " + reason)
        print("%s: %d Homa frames: %s" % (capture, len(drows), ", ".join(
            "%s %d" % kv for kv in sorted(counts.items()))))
        if not drows:
            problems.append("%s: no Homa frames at all" % capture)
    print("types accepted by the decoder: " + ", ".join(
        "%s %d" % kv for kv in sorted(seen_types.items())))
    for name in expect:
        if name not in seen_types:
            problems.append("no %s frame among the captures" % name)
    for p in problems[:MAX_REPORTS]:
        print("FAIL: " + p)
    if len(problems) > MAX_REPORTS:
        print("FAIL: ... and %d more" % (len(problems) - MAX_REPORTS))
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    sys.exit(compare(sys.argv[1:]))
