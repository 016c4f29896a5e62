"""A stub DNS server for the group ``{{host:}}`` names of the process backend.

Kubernetes gives a group member the name ``<task>.<service>.<namespace>.svc.cluster.local`` through the headless
Service and the pod's ``hostname``/``subdomain``; the compiled barrier (``osmo-barrier``) waits for every name
with ``nslookup`` and the tasks reach each other by ``<task>.<service>`` with the search domain. Locally, every pod
of a run gets a private ``/etc/resolv.conf`` naming this server (UDP on a loopback address, port 53, so root is
needed). It answers A queries for the registered names (bare or with a search domain), an empty NOERROR for other
record types of those names, and forwards every other query to the host's name server, so the internet still
resolves. A name is registered when its pod starts and dropped when it ends, as Kubernetes publishes a pod with an
address and removes a terminal one (``publishNotReadyAddresses: true``).
"""

from __future__ import annotations

import socket
import struct
import threading

SEARCH = ("svc.cluster.local", "cluster.local")


def _read_name(packet: bytes, at: int) -> tuple[str, int]:
    labels: list[str] = []
    while True:
        length = packet[at]
        if length == 0:
            return ".".join(labels), at + 1
        if length & 0xC0:  # compression pointers do not occur in questions
            raise ValueError("compressed name")
        labels.append(packet[at + 1 : at + 1 + length].decode("ascii", "replace"))
        at += 1 + length


class StubDNS:
    def __init__(self, address: str, namespace: str, upstream: str | None):
        self.address, self.upstream = address, upstream
        self.domains = (f"{namespace}.svc.cluster.local", *SEARCH)
        self.names: dict[str, str] = {}
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 53))
        self.thread = threading.Thread(target=self._serve, name="osmo-run-dns", daemon=True)
        self.thread.start()

    def resolv_conf(self) -> str:
        return f"nameserver {self.address}\nsearch {' '.join(self.domains)}\noptions ndots:5\n"

    def register(self, name: str, ip: str) -> None:
        with self.lock:
            self.names[name.lower()] = ip

    def unregister(self, name: str) -> None:
        with self.lock:
            self.names.pop(name.lower(), None)

    def lookup(self, qname: str) -> str | None:
        qname = qname.lower().rstrip(".")
        with self.lock:
            if qname in self.names:
                return self.names[qname]
            for domain in self.domains:
                if qname.endswith("." + domain) and qname[: -len(domain) - 1] in self.names:
                    return self.names[qname[: -len(domain) - 1]]
        return None

    def close(self) -> None:
        self.sock.close()

    def _serve(self) -> None:
        while True:
            try:
                packet, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                reply = self._answer(packet)
            except (ValueError, IndexError, struct.error):
                continue
            if reply is not None:
                try:
                    self.sock.sendto(reply, peer)
                except OSError:
                    return

    def _answer(self, packet: bytes) -> bytes | None:
        ident, flags, qdcount = struct.unpack("!HHH", packet[:6])
        if qdcount != 1:
            return None
        qname, at = _read_name(packet, 12)
        qtype, _qclass = struct.unpack("!HH", packet[at : at + 4])
        question = packet[12 : at + 4]
        ip = self.lookup(qname)
        if ip is None:
            known_domain = any(qname.lower().rstrip(".").endswith(d) for d in self.domains)
            forwarded = None if known_domain else self._forward(packet)
            if forwarded is not None:
                return forwarded
            return struct.pack("!HHHHHH", ident, 0x8183 | (flags & 0x0100), 1, 0, 0, 0) + question  # NXDOMAIN
        answers = b""
        if qtype in (1, 255):  # A or ANY
            answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 5, 4) + socket.inet_aton(ip)
        count = 1 if answers else 0
        return struct.pack("!HHHHHH", ident, 0x8580 | (flags & 0x0100), 1, count, 0, 0) + question + answers

    def _forward(self, packet: bytes) -> bytes | None:
        if not self.upstream:
            return None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as upstream:
            upstream.settimeout(2)
            try:
                upstream.sendto(packet, (self.upstream, 53))
                return upstream.recvfrom(4096)[0]
            except OSError:
                return None


def host_nameserver() -> str | None:
    try:
        with open("/etc/resolv.conf") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver" and "." in parts[1]:
                    return parts[1]
    except OSError:
        pass
    return None
