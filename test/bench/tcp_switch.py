#!/usr/bin/env python3
"""tcp_switch.py PORTFILE TARGET_HOST TARGET_PORT: a TCP relay to a CA that turns into a black
hole on SIGUSR1 (connections are accepted and never answered; relays in progress stop
passing bytes), for test/bench/engine_load.sh's hung-CA mount. Writes its port to PORTFILE."""
import asyncio
import signal
import sys

hole = False


async def pipe(r, w):
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            if hole:
                await asyncio.sleep(3600)   # hold the connection, say nothing
            w.write(data)
            await w.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        w.close()


async def handle(cr, cw):
    if hole:
        await asyncio.sleep(3600)
        return
    try:
        tr, tw = await asyncio.open_connection(sys.argv[2], int(sys.argv[3]))
    except OSError:
        cw.close()
        return
    await asyncio.gather(pipe(cr, tw), pipe(tr, cw))


def go_dark():
    global hole
    hole = True


async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, go_dark)
    with open(sys.argv[1], "w") as f:
        f.write(str(srv.sockets[0].getsockname()[1]))
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
