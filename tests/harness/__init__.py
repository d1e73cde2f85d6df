"""The test harness of handshake-lab: what the tests in tests/test_*.py share.

    env     where the programs are ($BUILD) and how they run (SAN, VALGRIND, SLOW)
    checks  Checks, the `t` of every test: soft checks, all failures listed at the end
    log     reading the JSON event log: events, first, assert_order, the common checks
    procs   running the programs: a server with its ports, a client, any command, a terminal
    net     raw sockets: HTTP framing, one-connection peers, a TLS peer
    tcp     the TCP story: close watches, state changes, active and passive close
    peers   other programs as peers: tshark, openssl s_server, lighttpd, nginx, gnutls-serv,
            Python's ssl, headless Chromium
    story   the story checker: is what the logs of a run tell true, and does it hold together

The fixtures that hand these out (build, certs, t, server, client, run, procs, the peers)
are in tests/conftest.py.
"""
