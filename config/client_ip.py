"""The client's address as django-axes should key on it, behind a load balancer or not.

``TRUSTED_PROXIES`` lists the proxies' addresses or networks. A request from one of
them has its ``X-Forwarded-For`` read from the right (the nearest hop) and the first
address that is not a trusted proxy is the client. A request from anywhere else is
keyed on the peer address, whatever ``X-Forwarded-For`` it claims: that header is
client-controlled unless our own proxy wrote it.
"""

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(entries: Iterable[str] | None = None) -> list[Network]:
    """``TRUSTED_PROXIES`` parsed; a bare address is a network of one."""
    if entries is None:
        entries = getattr(settings, "TRUSTED_PROXIES", ())
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]


def is_trusted(address: str, networks: list[Network]) -> bool:
    """Whether the address is one of our proxies (False for anything that is not an address)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The address of the client that made the request (``AXES_CLIENT_IP_CALLABLE``)."""
    peer = request.META.get("REMOTE_ADDR", "")
    networks = trusted_networks()
    if not is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed hop: what lies beyond it cannot be trusted
        if not is_trusted(hop, networks):
            return hop
    return hops[0] if hops else peer
