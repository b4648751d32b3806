"""Secrets out of anything printed, logged, traced or stored: user info and tokens in URLs.

`redact_url("postgresql://admin:pw@db:5432/x")` -> `postgresql://admin:***@db:5432/x`;
query parameters that look like credentials (`password`, `token`, `key`, `secret`...) keep their
name and lose their value. `redact_text` does the same to every URL inside a longer message, such
as a driver's error line that quotes its connection string.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
SECRET_PARAMS = re.compile(r"pass|pwd|token|secret|key|auth|sig|credential", re.IGNORECASE)
"""Query parameter names whose values are credentials."""
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """`url` with its password (or lone user token) and credential-like query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if has_password else f"{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if SECRET_PARAMS.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """`text` with every URL in it redacted, plus libpq-style `password=...` pairs."""
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", rf"\g<1>{MASK}", text, flags=re.IGNORECASE)
