#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# real-asyncio.py - an asyncio echo server on 127.0.0.1 and N concurrent
# clients (default 200), each sending LINES lines and checking every echo;
# then a UDP echo endpoint and a client endpoint with no address of its own
# (asyncio watches its socket before the first sendto() gives it one).
# Prints "asyncio: N clients, B bytes echoed" and exits 0 when every byte
# came back, 1 otherwise.  Plain TCP/UDP: scripts/real-guest.sh runs it
# under toywrap.

import asyncio
import socket
import sys

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
LINES = 8


async def handle(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def client(port, n):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    assert sock.family == socket.AF_INET, sock.family
    assert writer.get_extra_info("peername") == ("127.0.0.1", port)
    moved = 0
    for i in range(LINES):
        line = (f"client {n} line {i} " + "x" * (n % 97 + 64) + "\n").encode()
        writer.write(line)
        await writer.drain()
        back = await reader.readline()
        if back != line:
            raise RuntimeError(f"client {n}: sent {line!r}, got {back!r}")
        moved += len(line)
    writer.close()
    await writer.wait_closed()
    return moved


class UdpEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        assert addr[0] == "127.0.0.1", addr
        self.transport.sendto(data, addr)


class UdpClient(asyncio.DatagramProtocol):
    def __init__(self):
        self.got = asyncio.get_running_loop().create_future()

    def datagram_received(self, data, addr):
        if not self.got.done():
            self.got.set_result((data, addr))


async def udp():
    loop = asyncio.get_running_loop()
    server, _ = await loop.create_datagram_endpoint(
        UdpEcho, local_addr=("127.0.0.1", 0))
    port = server.get_extra_info("sockname")[1]
    client, proto = await loop.create_datagram_endpoint(
        UdpClient, family=socket.AF_INET)
    msg = b"asyncio udp datagram"
    client.sendto(msg, ("127.0.0.1", port))
    data, addr = await asyncio.wait_for(proto.got, 30)
    if data != msg or addr != ("127.0.0.1", port):
        raise RuntimeError(f"udp: sent {msg!r}, got {data!r} from {addr}")
    client.close()
    server.close()
    return len(msg)


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256)
    port = server.sockets[0].getsockname()[1]
    async with server:
        moved = await asyncio.gather(*(client(port, n) for n in range(CLIENTS)))
    moved.append(await udp())
    print(f"asyncio: {CLIENTS} clients, {sum(moved)} bytes echoed")


asyncio.run(main())
