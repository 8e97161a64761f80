"""16 clients at once on overlapping boxes, names and volumes (issue 11,
point 3), sized to fit make check; bench/stress runs the same at full size
and prints the figures. The engine and its rules are in stress.py."""
from conftest import BOXVM, BUSYBOX_TAR
from stress import Stress


def test_sixteen_clients_leave_a_consistent_store(no_leaks):
    bx = no_leaks
    s = Stress(BOXVM, bx.env, BUSYBOX_TAR, clients=16, ops_per_client=5, seed=11).run()
    print(s.report())
    assert not s.violations, s.report()
    assert not s.store_problems(bx.root), (s.store_problems(bx.root), s.report())
    s.remove_all()  # no_leaks then checks: no process, box dir or runtime dir left
