#!/usr/bin/env python3
"""Instruction counts per function of a node run under callgrind, JavaScript functions included.

callgrind counts every instruction, but names only native code: V8's compiled JavaScript is anonymous
addresses to it. Node's `--perf-basic-prof` writes /tmp/perf-PID.map (address, size and name of each
piece of generated code); this script names callgrind's per-instruction costs through that map.

    valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file=cg.out \\
      node --perf-basic-prof --predictable SCRIPT ARGS...
    scripts/callgrind-js.py cg.out                       # self instructions per function
    scripts/callgrind-js.py cg.out --callers Builtins_StringEqual   # who calls it, and what it costs them

With `--dump-before=FUNCTION` callgrind writes one file per part (cg.out.1, cg.out.2, ...); name the part
to read. The map is found from the file's `pid:` line (`--map` to give another). Code that V8 moved or
freed during the run may be named by a later occupant of its address: read counts of functions that run
until the end (steady loops), not of start-up code. `--no-turbo-inlining` on node's command line gives each
function its own count instead of its caller's (at the price of the calls). docs/performance.md, "Session 19:
the analyses a record at a time", shows it used.
"""
import argparse
import bisect
import collections
import glob
import re
import sys

POSITION = re.compile(r'^(0x[0-9a-fA-F]+|[+-]\d+|\*)')
NAMED = re.compile(r'^c?fn=\((\d+)\)(?: (.*))?$')


class PerfMap:
    """The generated code of one node process: address ranges and their names."""

    def __init__(self, path):
        rows = []
        with open(path) as f:
            for line in f:
                address, size, name = line.rstrip('\n').split(' ', 2)
                rows.append((int(address, 16), int(size, 16), name))
        rows.sort()
        self.starts = [r[0] for r in rows]
        self.ends = [r[0] + r[1] for r in rows]
        self.names = [r[2] for r in rows]

    def name(self, address):
        i = bisect.bisect_right(self.starts, address) - 1
        return self.names[i] if i >= 0 and address < self.ends[i] else None


def function_names(out):
    """callgrind names a function once per run (`fn=(id) name`), maybe in an earlier part's file."""
    names = {}
    base = re.sub(r'\.\d+$', '', out)
    for path in sorted(set(glob.glob(base + '.*')) | {base, out}):
        try:
            with open(path) as f:
                for line in f:
                    m = NAMED.match(line.rstrip('\n'))
                    if m and m.group(2) is not None:
                        names.setdefault(m.group(1), m.group(2))
        except FileNotFoundError:
            pass
    return names


def costs(out, perf_map):
    """Yields (function, callee or None, calls, instructions) for each cost line of the file."""
    names = function_names(out)
    function = callee = None
    calls = 0
    address = 0
    call_line = False
    with open(out) as f:
        for line in f:
            if line.startswith('fn='):
                function = names[NAMED.match(line.rstrip('\n')).group(1)]
                continue
            if line.startswith('cfn='):
                callee = names[NAMED.match(line.rstrip('\n')).group(1)]
                continue
            if line.startswith('calls='):
                call_line = True
                calls = int(line[6:].split()[0])
                continue
            if not POSITION.match(line):
                continue
            fields = line.split()
            position = fields[0]
            if position.startswith('0x'):
                address = int(position, 16)
            elif position[0] in '+-':
                address += int(position)
            instructions = int(fields[2]) if len(fields) > 2 else 0
            name = function
            if function is not None and (function.startswith('0x') or function == '???'):
                name = perf_map.name(address) or 'JIT code (not in the map)'
            if call_line:
                call_line = False
                yield name, callee, calls, instructions
            else:
                yield name, None, 0, instructions


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out', help='a callgrind output file (run with --dump-instr=yes)')
    parser.add_argument('--map', help='the perf map (default: /tmp/perf-PID.map of the file\'s pid)')
    parser.add_argument('--callers', metavar='CALLEE', help='list the callers of functions whose name has this')
    parser.add_argument('--top', type=int, default=40, help='rows to print')
    args = parser.parse_args()
    map_path = args.map
    if map_path is None:
        with open(args.out) as f:
            pid = next((line.split()[1] for line in f if line.startswith('pid:')), None)
        if pid is None:
            sys.exit(f'{args.out}: no pid line; give --map')
        map_path = f'/tmp/perf-{pid}.map'
    perf_map = PerfMap(map_path)
    total = 0
    own = collections.Counter()
    by_caller = collections.Counter()
    calls_by_caller = collections.Counter()
    for name, callee, calls, instructions in costs(args.out, perf_map):
        if callee is None:
            total += instructions
            own[name] += instructions
        elif args.callers is not None and args.callers in callee:
            by_caller[name] += instructions
            calls_by_caller[name] += calls
    if args.callers is not None:
        print(f'calls to *{args.callers}*, instructions inclusive, by caller')
        for name, instructions in by_caller.most_common(args.top):
            print(f'{instructions:>14,} {calls_by_caller[name]:>11,} calls  {name}')
        return
    print(f'{total:,} instructions; self instructions per function')
    for name, instructions in own.most_common(args.top):
        print(f'{instructions:>14,} {100 * instructions / total:5.1f}%  {name}')


if __name__ == '__main__':
    main()
