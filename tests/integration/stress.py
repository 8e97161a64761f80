"""Many clients at once on overlapping boxes, names and volumes (issue 11,
point 3): the engine behind test_concurrency.py (sized for make check) and
bench/stress (full size, prints the figures).

Each client runs a seeded random sequence of real boxvm commands (run -d,
create, start, stop, kill, rm -f, rename, exec, ps, logs, load, volume
create/rm) on a small pool of names, so they collide all the time. Every
command must either succeed or fail with one "boxvm: ..." line, exit 1 or
125, and a reason that collisions explain (EXPECTED); anything else (a
crash, a sanitizer report, a hang, another error) is a violation. Afterwards the store must be consistent: no record
without a name or name without its record, no duplicate, no leftover dir;
and once everything is removed, no process, runtime dir or mount is left."""
import collections
import os
import random
import re
import subprocess
import threading
import time

NAMES = ["s0", "s1", "s2", "s3", "s4", "s5"]
VOLUMES = ["sv0", "sv1"]

# (weight, op): VM boots (run -d, start) are the expensive ones
OPS = [
    (3, "run"), (3, "create"), (3, "start"), (3, "stop"), (2, "kill"), (4, "rm"), (4, "rename"),
    (3, "exec"), (4, "ps"), (3, "logs"), (1, "load"), (2, "volume_create"), (2, "volume_rm"),
]


def _args(op, rnd, image_tar):
    n, m, v = rnd.choice(NAMES), rnd.choice(NAMES), rnd.choice(VOLUMES)
    return {
        "run": ["run", "-d", "--name", n, "-v", f"{v}:/v", "busybox", "sleep", "1000"],
        "create": ["create", "--name", n, "busybox", "sleep", "1000"],
        "start": ["start", n],
        "stop": ["stop", "-t", "1", n],
        "kill": ["kill", n],
        "rm": ["rm", "-f", n],
        "rename": ["rename", n, m],
        "exec": ["exec", n, "true"],
        "ps": ["ps", "-a"],
        "logs": ["logs", n],
        "load": ["load", "-q", "-i", image_tar],
        "volume_create": ["volume", "create", v],
        "volume_rm": ["volume", "rm", v],
    }[op]


# What a command may fail with when others change the same boxes and names
# at the same time; any other error is a violation (a race boxvm should not
# lose, or an unclear message).
EXPECTED = [
    "no such box", "is already in use by box", "was stopped before its command started", "volume is in use",
    "is not running", "to the name it already has", "is already running", "is being removed",
    "renamed to", "no such volume", "was started meanwhile", "was removed",
]


def _kind(stderr):
    """A failure's kind: its message with names and IDs taken out."""
    line = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    line = re.sub(r"[0-9a-f]{12,64}", "ID", line)
    line = re.sub(r"\b(s\d|sv\d)\b", "NAME", line)
    return re.sub(r"\"NAME\"", "NAME", line)[:120]


class Stress:
    def __init__(self, boxvm, env, image_tar, clients, ops_per_client, seed=1, timeout=600):
        self.boxvm, self.env, self.image_tar = boxvm, env, image_tar
        self.clients, self.ops_per_client, self.seed, self.timeout = clients, ops_per_client, seed, timeout
        self.counts = collections.Counter()      # op -> commands run
        self.failures = collections.Counter()    # (op, kind) -> count
        self.violations = []                     # (op, args, rc, stderr)
        self.lock = threading.Lock()

    def _client(self, i):
        rnd = random.Random(self.seed * 1000 + i)
        ops = [op for w, op in OPS for _ in range(w)]
        for _ in range(self.ops_per_client):
            op = rnd.choice(ops)
            args = _args(op, rnd, self.image_tar)
            try:
                p = subprocess.run([self.boxvm, *args], env=self.env, capture_output=True, text=True,
                                   timeout=self.timeout)
                rc, err = p.returncode, p.stderr
            except subprocess.TimeoutExpired:
                rc, err = None, "hung"
            with self.lock:
                self.counts[op] += 1
                if rc == 0:
                    continue
                clear = rc in (1, 125) and err.count("\n") == 1 and err.startswith("boxvm: ") and \
                    any(e in err for e in EXPECTED)
                if clear:
                    self.failures[(op, _kind(err))] += 1
                else:
                    self.violations.append((op, args, rc, err[-2000:]))

    def run(self):
        t = time.monotonic()
        threads = [threading.Thread(target=self._client, args=(i,)) for i in range(self.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        self.seconds = time.monotonic() - t
        return self

    # ---- afterwards -------------------------------------------------------

    def store_problems(self, root):
        """Inconsistencies of the store, as ps -a (which runs the sweep) leaves it."""
        out = subprocess.run([self.boxvm, "ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.State}}"],
                             env=self.env, capture_output=True, text=True, check=True).stdout
        rows = [line.split() for line in out.splitlines()]
        problems = []
        names = [r[1] for r in rows]
        if len(names) != len(set(names)):
            problems.append(f"duplicate names in ps: {names}")
        ids = {r[0] for r in rows}
        boxes = os.path.join(root, "boxes")
        dirs = {d for d in os.listdir(boxes) if not d.startswith(".")} if os.path.isdir(boxes) else set()
        if dirs != ids:
            problems.append(f"box dirs {sorted(dirs - ids)} not listed, listed {sorted(ids - dirs)} without a dir")
        ndir = os.path.join(root, "names")
        entries = {n: os.readlink(os.path.join(ndir, n)) for n in os.listdir(ndir)} if os.path.isdir(ndir) else {}
        want = {r[1]: r[0] for r in rows}
        if entries != want:
            problems.append(f"names {entries} but boxes {want}")
        for r in rows:
            if r[2] not in ("created", "running", "exited", "paused", "restarting"):
                problems.append(f"box {r[1]} in state {r[2]}")
        vols = os.path.join(root, "volumes")
        trash = [v for v in os.listdir(vols) if v.startswith(".")] if os.path.isdir(vols) else []
        if trash:
            problems.append(f"leftovers in volumes: {trash}")
        return problems

    def remove_all(self):
        ids = subprocess.run([self.boxvm, "ps", "-aq", "--no-trunc"], env=self.env, capture_output=True,
                             text=True, check=True).stdout.split()
        if ids:
            subprocess.run([self.boxvm, "rm", "-f", *ids], env=self.env, capture_output=True, check=True,
                           timeout=self.timeout)
        for v in VOLUMES:
            subprocess.run([self.boxvm, "volume", "rm", v], env=self.env, capture_output=True)

    def report(self):
        lines = [f"clients {self.clients}, commands {sum(self.counts.values())} in {self.seconds:.0f} s"]
        lines.append("commands by kind: " + ", ".join(f"{op} {n}" for op, n in sorted(self.counts.items())))
        lines.append(f"clear failures {sum(self.failures.values())}:")
        for (op, kind), n in sorted(self.failures.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {n:4d}  {op}: {kind}")
        lines.append(f"violations {len(self.violations)}")
        for op, args, rc, err in self.violations[:10]:
            lines.append(f"  {op} {args} -> {rc}: {err.strip()[-500:]}")
        return "\n".join(lines)
