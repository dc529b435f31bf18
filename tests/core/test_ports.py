"""Loopback ports: a free one is not listening; one a socket listens on is."""
import socket

from fl.core.ports import free_port, listening


def test_a_free_port_is_not_listening_and_a_listening_one_is():
    port = free_port()
    assert not listening(port)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert listening(server.getsockname()[1])
