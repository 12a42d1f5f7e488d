"""What counts as this machine: the one rule that decides redaction and the web page's token."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlparse


def is_loopback_host(host: str) -> bool:
    """An address in 127.0.0.0/8 or ::1, or exactly `localhost`; never a name that merely starts
    with `127.` (127.0.0.1.nip.io resolves wherever its owner likes)."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str | None) -> bool:
    if not url:
        return False
    try:
        host = urlparse(url).hostname
    except ValueError:
        return False
    return is_loopback_host(host or "")
