"""Which addresses a webhook may be sent to: public ones, unless an operator says otherwise.

Why: the delivery worker runs inside the firm's network and POSTs wherever an
endpoint's URL points, so a URL naming ``169.254.169.254`` (a cloud metadata
service), ``10.1.2.3`` or ``localhost`` would turn webhooks into a way of
reaching internal services. Such URLs are refused when registered, and the
address is checked again at every connection, after resolving the host name,
because a name can resolve to a public address at registration and to an
internal one later (DNS rebinding). The worker then connects to exactly the
address it checked (``Poster`` pins it), so a second resolution cannot swap it.

``LEDGER_WEBHOOKS_ALLOW_PRIVATE=1`` allows loopback and private addresses
(RFC 1918, ULA ``fc00::/7``, shared ``100.64.0.0/10``) for receivers inside
the firm's own network and for tests. Link-local addresses (which include the
metadata services), the unspecified address, multicast and reserved ranges
stay refused even then: no legitimate receiver lives there.

URLs with credentials (``http://user:pw@host``) are refused: they would be
stored and listed in clear. ``display_url`` hides them for rows stored before.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import SplitResult, urlsplit

from ledger.errors import LedgerError

ALLOW_PRIVATE_ENV = "LEDGER_WEBHOOKS_ALLOW_PRIVATE"
MAX_URL_LENGTH = 2000
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Metadata services outside the link-local ranges (Alibaba Cloud, AWS over IPv6).
METADATA = frozenset({ipaddress.ip_address("100.100.100.200"),
                      ipaddress.ip_address("fd00:ec2::254")})
SHARED = ipaddress.ip_network("100.64.0.0/10")
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


class AddressRefusedError(LedgerError):
    """A webhook URL whose host is (or resolves to) an address webhooks may not reach."""

    type = "webhook-address-refused"


class InvalidWebhookUrlError(LedgerError):
    """A webhook URL that is not an absolute http(s) URL without credentials."""

    type = "invalid-webhook-url"


def private_allowed() -> bool:
    """Whether ``LEDGER_WEBHOOKS_ALLOW_PRIVATE`` is set to a true value."""
    return os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def parse_url(url: str) -> SplitResult:
    """The split URL, refused unless absolute http(s) with a host and no credentials."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhookUrlError(f"the URL is longer than {MAX_URL_LENGTH} characters",
                                     field="url")
    try:
        split = urlsplit(url)
        split.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise InvalidWebhookUrlError("the URL cannot be parsed", field="url") from None
    if split.scheme not in ("http", "https") or not split.hostname:
        raise InvalidWebhookUrlError("the URL must be an absolute http(s) URL", field="url")
    if split.username is not None or split.password is not None or "@" in split.netloc:
        raise InvalidWebhookUrlError(
            "the URL must not carry credentials (user:password@); authenticate receivers "
            "with the signature instead", field="url")
    return split


def refusal(address: IPAddress, allow_private: bool) -> str | None:
    """Why webhooks may not reach ``address`` (None when they may)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA or address.is_link_local:
        return "a link-local or metadata address"
    if (address.is_unspecified or address.is_multicast or address in THIS_NETWORK
            or (address.is_reserved and not address.is_loopback)):
        return "an unspecified, multicast or reserved address"
    internal = (address.is_loopback or address.is_private
                or (isinstance(address, ipaddress.IPv4Address) and address in SHARED))
    if internal and not allow_private:
        return (f"a loopback or private address (set {ALLOW_PRIVATE_ENV}=1 to allow "
                "receivers inside your own network)")
    if not internal and not address.is_global:
        return "a reserved address that is not globally routable"
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (a literal address resolves to itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise AddressRefusedError("the URL's host name does not resolve", field="url") from None
    found: list[IPAddress] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone
        address = ipaddress.ip_address(text)
        if address not in found:
            found.append(address)
    return found


def default_port(split: SplitResult) -> int:
    return split.port or (443 if split.scheme == "https" else 80)


def checked_addresses(split: SplitResult, allow_private: bool | None = None) -> list[IPAddress]:
    """The host's addresses, all of them allowed, or ``AddressRefusedError``.

    Every address must pass, not just one: the connection may use any of them.
    """
    allow = private_allowed() if allow_private is None else allow_private
    assert split.hostname is not None, "parse_url checked the host"
    addresses = resolve(split.hostname, default_port(split))
    if not addresses:
        raise AddressRefusedError("the URL's host name does not resolve", field="url")
    for address in addresses:
        reason = refusal(address, allow)
        if reason is not None:
            raise AddressRefusedError(f"webhooks may not be sent to {reason}", field="url")
    return addresses


def validate_url(url: str, allow_private: bool | None = None) -> str:
    """``url`` when a webhook may be registered for it; refused otherwise."""
    checked_addresses(parse_url(url), allow_private)
    return url


def display_url(url: str) -> str:
    """The URL with any credentials replaced by ``***`` (for listing stored rows)."""
    try:
        split = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    if "@" not in split.netloc:
        return url
    host = split.netloc.rpartition("@")[2]
    return split._replace(netloc="***@" + host).geturl()
