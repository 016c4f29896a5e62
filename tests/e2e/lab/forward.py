"""A TCP forwarder from the host's loopback into the lab's network namespace.

It binds its listening sockets in the host's namespace first, then moves itself (one thread, before any
other exists) into the lab's namespace, so every connection it makes goes to an address there. The host
never gets an address of the lab's range, and nothing inside the lab can reach the host through it.

    python -m tests.e2e.lab.forward /run/netns/osmo-lab 127.0.0.1:6443=10.213.0.1:6443 ...
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import sys

CLONE_NEWNET = 0x40000000


def enter_netns(path: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {path}")
    finally:
        os.close(fd)


def listener(address: str) -> socket.socket:
    host, port = address.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def handler(target: str):
    host, port = target.rsplit(":", 1)

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, writer), pipe(reader, client_writer))

    return handle


async def serve(pairs: list[tuple[socket.socket, str]]) -> None:
    servers = [await asyncio.start_server(handler(target), sock=sock) for sock, target in pairs]
    await asyncio.gather(*(server.serve_forever() for server in servers))


def main(argv: list[str]) -> None:
    netns, *routes = argv
    pairs = [(listener(route.split("=")[0]), route.split("=")[1]) for route in routes]
    enter_netns(netns)
    asyncio.run(serve(pairs))


if __name__ == "__main__":
    main(sys.argv[1:])
