#!/usr/bin/env python3
"""Companion of socket-zoo.mjs: the sockets Node's API cannot make.

Node cannot listen without accepting, set SO_RCVBUF/TCP_SYNCNT/TCP_DEFER_ACCEPT,
shutdown() with data still queued, or open raw, unix dgram/seqpacket, abstract
or unbound unix sockets. This helper does those, standard library only.

Usage (socket-zoo.mjs runs it; not meant to be run by hand):
    python3 socket_zoo_helper.py '<json config>'
config: {"local": bool, "unixDir": str, "abstractName": str,
         "remotes": [{"family": 4|6, "addr": str}]}
Prints ONE JSON line {"pid", "tcp": [...], "raw": [...], "unix": [...],
"remoteTcp": [...]} once every socket is in its state, then holds them all
until stdin reaches EOF or SIGTERM arrives.

Every state is made on loopback without packet loss (this kernel has no
netem): a zero receive window keeps a FIN queued behind unsent data
(FIN_WAIT1, LAST_ACK, CLOSING), a full accept queue drops SYNs (SYN_SENT),
and TCP_DEFER_ACCEPT keeps the server's request socket in SYN_RECV.
"""
import json
import os
import signal
import socket
import sys
import time

STATES = {1: 'ESTABLISHED', 2: 'SYN_SENT', 3: 'SYN_RECV', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2',
          6: 'TIME_WAIT', 7: 'CLOSE', 8: 'CLOSE_WAIT', 9: 'LAST_ACK', 10: 'LISTEN', 11: 'CLOSING'}
LOOPBACK = {4: '127.0.0.1', 6: '::1'}
AF = {4: socket.AF_INET, 6: socket.AF_INET6}
FILE = {4: 'tcp', 6: 'tcp6'}

held = []        # every socket stays referenced: garbage collection would close it
expect = []      # TCP sockets this namespace must show
remote_expect = []  # TCP sockets the remote namespace must show because of us


def keep(s):
    held.append(s)
    return s


def add(rows, family, state, count, why, local_port=None, remote_port=None):
    row = {'file': FILE[family], 'state': state, 'count': count, 'why': why}
    if local_port is not None:
        row['localPort'] = local_port
    else:
        row['remotePort'] = remote_port
    rows.append(row)


def state_of(s):
    # First byte of struct tcp_info is tcpi_state.
    return STATES[s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]]


def wait_state(s, want, what, timeout=5.0):
    deadline = time.monotonic() + timeout
    while (got := state_of(s)) != want:
        if time.monotonic() > deadline:
            raise RuntimeError(f'{what}: socket is {got}, wanted {want}')
        time.sleep(0.005)


def tcp(family, rcvbuf=None):
    s = keep(socket.socket(AF[family], socket.SOCK_STREAM))
    if rcvbuf:
        # Must precede connect/listen: the window scale is fixed at the handshake.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    return s


def listen(family, port, backlog=16, host=None, **opts):
    s = tcp(family)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if opts.get('sndbuf'):
        # Inherited by accepted sockets: keeps the data stuck behind a FIN small.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, opts['sndbuf'])
    if family == 6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    if opts.get('defer'):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, opts['defer'])
    s.bind((host or LOOPBACK[family], port))
    s.listen(backlog)
    return s


def connect(family, addr, port, rcvbuf=None):
    c = tcp(family, rcvbuf)
    c.settimeout(5)
    c.connect((addr, port))
    return c


def connect_pending(family, addr, port):
    """A connect whose SYN is never answered stays SYN_SENT; TCP_SYNCNT 127 keeps it for hours."""
    c = tcp(family)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 127)
    c.setblocking(False)
    err = c.connect_ex((addr, port))
    if err not in (0, 115):  # 115 = EINPROGRESS
        raise OSError(err, os.strerror(err))
    return c


def fill(sender):
    """Send until the peer's (small) receive window and our send buffer are full."""
    sender.setblocking(False)
    chunk = b'z' * 65536
    while True:
        try:
            sender.send(chunk)
        except BlockingIOError:
            return


def accept_queue_listener(family):
    # backlog 1: the queue is full at 2 (sk_ack_backlog > max), so a third SYN is dropped.
    host = '0.0.0.0' if family == 4 else '::'
    listen(family, 8080, backlog=1, host=host)
    for _ in range(2):
        connect(family, LOOPBACK[family], 8080)
    c = connect_pending(family, LOOPBACK[family], 8080)
    time.sleep(0.05)
    wait_state(c, 'SYN_SENT', 'connect to full accept queue')
    add(expect, family, 'LISTEN', 1, 'listener that never accepts; accept queue (rx_queue) holds 2', local_port=8080)
    add(expect, family, 'ESTABLISHED', 2, 'completed, waiting in the accept queue', local_port=8080)
    add(expect, family, 'ESTABLISHED', 2, 'client of the never-accepting listener', remote_port=8080)
    add(expect, family, 'SYN_SENT', 1, 'SYN dropped because the accept queue is full', remote_port=8080)


def deferred_listener(family):
    # TCP_DEFER_ACCEPT drops the bare final ACK: the client is ESTABLISHED, the server's
    # request socket stays SYN_RECV (for about an hour with 3600 s).
    listen(family, 8000, host='0.0.0.0' if family == 4 else '::', defer=3600)
    c = connect(family, LOOPBACK[family], 8000)
    wait_state(c, 'ESTABLISHED', 'client of deferred listener')
    add(expect, family, 'LISTEN', 1, 'TCP_DEFER_ACCEPT listener', local_port=8000)
    add(expect, family, 'SYN_RECV', 1, 'request socket waiting for data (defer accept)', local_port=8000)
    add(expect, family, 'ESTABLISHED', 1, 'client of the deferred listener; sent no data', remote_port=8000)


def teardown_states(family):
    """Port 8443: FIN_WAIT1, LAST_ACK and CLOSING held by a zero window."""
    lst = listen(family, 8443, sndbuf=16384)
    add(expect, family, 'LISTEN', 1, 'teardown listener', local_port=8443)

    def pair():
        # The client's tiny receive buffer is what closes the window.
        c = connect(family, LOOPBACK[family], 8443, rcvbuf=4096)
        srv, _ = lst.accept()
        return c, keep(srv)

    # FIN_WAIT1: the server closes with data the client never reads; its FIN waits behind it.
    c, s = pair()
    fill(s)
    s.shutdown(socket.SHUT_WR)
    wait_state(s, 'FIN_WAIT1', 'server closing into a zero window')
    add(expect, family, 'FIN_WAIT1', 1, 'server FIN queued behind unread data', local_port=8443)
    add(expect, family, 'ESTABLISHED', 1, 'client of the FIN_WAIT1 server: FIN not received yet', remote_port=8443)

    # LAST_ACK: the client closes first (server CLOSE_WAIT), then the server closes into a zero window.
    c, s = pair()
    c.shutdown(socket.SHUT_WR)
    wait_state(s, 'CLOSE_WAIT', 'server after client FIN')
    fill(s)
    s.shutdown(socket.SHUT_WR)
    wait_state(s, 'LAST_ACK', 'server closing after client FIN')
    wait_state(c, 'FIN_WAIT2', 'client waiting for the LAST_ACK server FIN')
    add(expect, family, 'LAST_ACK', 1, 'server FIN queued behind unread data after client FIN', local_port=8443)
    add(expect, family, 'FIN_WAIT2', 1, 'client of the LAST_ACK server', remote_port=8443)

    # CLOSING: simultaneous close. The server's FIN is stuck (FIN_WAIT1); the client's FIN
    # arrives before the server's is acknowledged.
    c, s = pair()
    fill(s)
    s.shutdown(socket.SHUT_WR)
    wait_state(s, 'FIN_WAIT1', 'server before simultaneous close')
    c.shutdown(socket.SHUT_WR)
    wait_state(s, 'CLOSING', 'server after simultaneous close')
    wait_state(c, 'FIN_WAIT2', 'client after simultaneous close')
    add(expect, family, 'CLOSING', 1, 'simultaneous close; own FIN unacknowledged', local_port=8443)
    add(expect, family, 'FIN_WAIT2', 1, 'client of the CLOSING server', remote_port=8443)

    # CLOSE_WAIT / FIN_WAIT2 without queued data: the classic leaked server socket.
    c, s = pair()
    c.shutdown(socket.SHUT_WR)
    wait_state(s, 'CLOSE_WAIT', 'server that never closes')
    wait_state(c, 'FIN_WAIT2', 'client that half-closed')
    add(expect, family, 'CLOSE_WAIT', 1, 'server never closes after client FIN', local_port=8443)
    add(expect, family, 'FIN_WAIT2', 1, 'client half-closed (shutdown SHUT_WR), fd kept', remote_port=8443)


def raw_sockets():
    keep(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
    keep(socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6))
    # /proc/net/raw shows the protocol number where TCP shows the port.
    return [{'file': 'raw', 'protocol': 1, 'state': 'CLOSE', 'count': 1},
            {'file': 'raw6', 'protocol': 58, 'state': 'CLOSE', 'count': 1}]


def unix_sockets(unix_dir, abstract):
    rows = []
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    keep(a), keep(b)
    rows.append({'path': None, 'type': 'stream', 'state': 'CONNECTED', 'count': 2, 'exact': False,
                 'why': 'socketpair; child_process stdio pipes are unnamed socketpairs too'})

    d = keep(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
    dpath = os.path.join(unix_dir, 'log dgram.sock')
    d.bind(dpath)
    rows.append({'path': dpath, 'type': 'dgram', 'state': 'UNCONNECTED', 'count': 1, 'exact': True, 'why': 'bound dgram'})

    q = keep(socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET))
    qpath = os.path.join(unix_dir, 'seq packet.sock')
    q.bind(qpath)
    q.listen(4)
    rows.append({'path': qpath, 'type': 'seqpacket', 'state': 'LISTEN', 'count': 1, 'exact': True, 'why': 'seqpacket listener'})

    ab = keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    ab.bind('\0' + abstract)  # leading NUL: abstract name, shown as @name
    ab.listen(4)
    rows.append({'path': '@' + abstract, 'type': 'stream', 'state': 'LISTEN', 'count': 1, 'exact': True, 'why': 'abstract listener'})

    keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))  # never bound nor connected
    rows.append({'path': None, 'type': 'stream', 'state': 'UNCONNECTED', 'count': 1, 'exact': True, 'why': 'unbound'})
    return rows


def remote_states(family, addr):
    # The remote zoo's 8080 accept queue is already full: our SYN is dropped there.
    c = connect_pending(family, addr, 8080)
    time.sleep(0.05)
    wait_state(c, 'SYN_SENT', f'connect to {addr}:8080')
    add(expect, family, 'SYN_SENT', 1, f'to {addr}:8080, remote accept queue full', remote_port=8080)
    # The remote 8000 listener defers accept: we are ESTABLISHED, it holds SYN_RECV.
    c = connect(family, addr, 8000)
    wait_state(c, 'ESTABLISHED', f'connect to {addr}:8000')
    add(expect, family, 'ESTABLISHED', 1, f'to {addr}:8000 (deferred listener)', remote_port=8000)
    add(remote_expect, family, 'SYN_RECV', 1, 'request socket from the peer namespace', local_port=8000)


def main():
    cfg = json.loads(sys.argv[1])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    out = {'pid': os.getpid(), 'tcp': expect, 'raw': [], 'unix': [], 'remoteTcp': remote_expect}
    if cfg.get('local', True):
        for fam in (4, 6):
            accept_queue_listener(fam)
            deferred_listener(fam)
            teardown_states(fam)
        out['raw'] = raw_sockets()
        out['unix'] = unix_sockets(cfg['unixDir'], cfg['abstractName'])
    for r in cfg.get('remotes', []):
        remote_states(r['family'], r['addr'])
    print(json.dumps(out), flush=True)
    sys.stdin.buffer.read()  # hold everything until our parent closes stdin


if __name__ == '__main__':
    main()
