"""harness/lan.py -- a student's laptop in a network namespace, joined to this machine by a veth
pair (root only): the way a test reaches the server from an address that is not loopback
without listening on any real network (a `dummy` interface does not exist on these kernels, and
an address added to a host interface would put the server on that network). Every namespace,
veth and bridge is named uniquely for the run and removed at the end, even on failure."""

import random
import shutil
import subprocess

import pytest

from harness.tcp import is_root


def _ip(*args, ns=None):
    cmd = (["ip", "netns", "exec", ns, "ip"] if ns else ["ip"]) + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
    return p.returncode == 0, p.stdout.decode("utf-8", "replace").strip()


class Lan:
    """A student's laptop in a network namespace, joined to this machine by a veth pair: the
    teacher's address (self.host) on this side, the student's (self.there) in the namespace.
    bridge=True puts this side's end into a bridge that holds the address, as a LAN often
    is: then every segment crosses two interfaces here (the veth, then the bridge)."""

    def __init__(self, bridge=False):
        tag = "%05x" % random.randrange(1 << 20)
        self.ns = "hscap" + tag
        self.veth, self.peer, self.br = "hcv" + tag, "hcp" + tag, ("hcb" + tag if bridge else None)
        self.made, self.why = [], ""

    def _do(self, *args, ns=None):
        ok, out = _ip(*args, ns=ns)
        if not ok and not self.why:
            self.why = "ip %s: %s" % (" ".join(args), out[-200:])
        return ok

    def __enter__(self):
        # A /24 no interface here uses; a few tries if one of them is taken.
        for _ in range(5):
            n = random.randrange(16, 250)
            self.host, self.there = "10.216.%d.1" % n, "10.216.%d.2" % n
            self.host6, self.there6 = "fd16:%x::1" % n, "fd16:%x::2" % n
            ok, routes = _ip("route", "show", "10.216.%d.0/24" % n)
            if ok and not routes:
                break
        if not self._do("netns", "add", self.ns):
            return self
        self.made.append("ns")
        if not self._do("link", "add", self.veth, "type", "veth", "peer", "name", self.peer):
            return self
        self.made.append("veth")
        addr_dev = self.veth
        if self.br:
            if not self._do("link", "add", self.br, "type", "bridge"):
                return self
            self.made.append("br")
            if not (self._do("link", "set", self.veth, "master", self.br) and
                    self._do("link", "set", self.br, "up")):
                return self
            addr_dev = self.br
        (self._do("link", "set", self.peer, "netns", self.ns) and
         self._do("addr", "add", self.host + "/24", "dev", addr_dev) and
         self._do("link", "set", self.veth, "up") and
         self._do("addr", "add", self.there + "/24", "dev", self.peer, ns=self.ns) and
         # IPv6 too, usable at once (nodad: no duplicate address detection to wait for)
         self._do("addr", "add", self.host6 + "/64", "dev", addr_dev, "nodad") and
         self._do("addr", "add", self.there6 + "/64", "dev", self.peer, "nodad", ns=self.ns) and
         self._do("link", "set", self.peer, "up", ns=self.ns) and
         self._do("link", "set", "lo", "up", ns=self.ns))
        return self

    @property
    def ok(self):
        return not self.why

    def __exit__(self, *exc):
        # Deleting one end of a veth pair deletes both; the namespace last.
        if "veth" in self.made:
            _ip("link", "del", self.veth)
        if "br" in self.made:
            _ip("link", "del", self.br)
        if "ns" in self.made:
            _ip("netns", "del", self.ns)
        return False


def gone(lan):
    """What of lan is still there (nothing, after its with block)."""
    left = []
    ok, out = _ip("netns", "list")
    if lan.ns in out.split():
        left.append(lan.ns)
    for dev in (lan.veth, lan.br):
        if dev and _ip("link", "show", dev)[0]:
            left.append(dev)
    return left


@pytest.fixture
def lan_ok():
    if not is_root():
        pytest.skip("needs root: ip netns add and a capture (CAP_NET_RAW); not root")
    if shutil.which("ip") is None:
        pytest.skip("needs ip(8) (iproute2) for a network namespace and a veth pair")


