"""E-mail: .eml (MIME, standard library) and Outlook .msg (python-oxmsg).

The body becomes sections (subject, sender, recipients and date at the top); each attachment
whose type is supported is read by its own reader, and its sections carry `attachment`
(the file name). An attachment that cannot be read is left out with a log line; the mail stays.
"""

from __future__ import annotations

import email
import email.policy
import logging
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Callable

from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.loaders.formats import is_supported
from ingest.loaders.html import sections_from_html
from ingest.loaders.text import detect_encoding

log = logging.getLogger(__name__)

MAX_ATTACHMENT_DEPTH = 3  # mails attached to mails attached to mails...

# Given by the registry: reads one attached file (path, nesting depth) the way `load_file` does.
LoadFn = Callable[[Path, int], list[Section]]


def _body_sections(header_lines: list[str], text: str | None, html: str | None) -> list[Section]:
    head = "\n".join(line for line in header_lines if line.split(":", 1)[1].strip())
    if text and text.strip():
        body = [Section(text=text.strip())]
    elif html and html.strip():
        body = sections_from_html(html)
    else:
        body = []
    if body:
        first = body[0]
        return [Section(text=f"{head}\n\n{first.text}", meta=first.meta, header=first.header), *body[1:]]
    return [Section(text=head)] if head else []


def attachment_sections(name: str, data: bytes, load: LoadFn, depth: int) -> list[Section]:
    """The sections of one attached file, read by its own reader, labelled with its name."""
    safe = Path(name.replace("\\", "/")).name or "attachment"
    if depth >= MAX_ATTACHMENT_DEPTH or not is_supported(Path(safe), images=False) or not data:
        return []
    with tempfile.TemporaryDirectory(prefix="localgpt-att-") as folder:
        path = Path(folder) / safe
        path.write_bytes(data)
        try:
            sections = load(path, depth + 1)
        except LoadError as exc:
            log.warning("attachment %s not read: %s", safe, exc)
            return []
    prefix = lambda s: s.meta.get("attachment")  # noqa: E731 (nested attachments keep their path)
    return [
        Section(
            text=s.text, meta={**s.meta, "attachment": f"{safe} > {prefix(s)}" if prefix(s) else safe}, header=s.header
        )
        for s in sections
    ]


def _decoded_text(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeDecodeError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode(detect_encoding(payload[:65536]) if payload else "utf-8", errors="replace")


def read_eml(path: Path, load: LoadFn, depth: int = 0) -> list[Section]:
    with open(path, "rb") as handle:
        message: EmailMessage = email.message_from_binary_file(handle, policy=email.policy.default)  # type: ignore[assignment]
    if not message.keys() and not message.get_payload():
        raise LoadError("not an e-mail: no headers or body found")
    header_lines = [f"{key}: {message.get(key, '')}" for key in ("Subject", "From", "To", "Date")]
    body = message.get_body(preferencelist=("plain", "html"))
    text = html = None
    if body is not None:
        content = _decoded_text(body)
        if body.get_content_type() == "text/html":
            html = content
        else:
            text = content
    sections = _body_sections(header_lines, text, html)
    for part in message.iter_attachments():
        name = part.get_filename()
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            data = inner.as_bytes() if hasattr(inner, "as_bytes") else b""
            name = name or f"{inner.get('Subject', 'message') if hasattr(inner, 'get') else 'message'}.eml"
        else:
            data = part.get_payload(decode=True) or b""
        if name:
            sections.extend(attachment_sections(name, data, load, depth))
    if not sections:
        raise LoadError("no text found in the e-mail")
    return sections


def read_msg(path: Path, load: LoadFn, depth: int = 0) -> list[Section]:
    from oxmsg import Message

    message = Message.load(str(path))  # a damaged file: loaders.read_failure names it
    recipients = ", ".join(str(getattr(r, "email_address", "") or r) for r in message.recipients)
    header_lines = [
        f"Subject: {message.subject or ''}",
        f"From: {message.sender or ''}",
        f"To: {recipients}",
        f"Date: {message.sent_date or ''}",
    ]
    html = message.html_body
    sections = _body_sections(
        header_lines, message.body, html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    )
    for attachment in message.attachments:
        if attachment.file_name and attachment.file_bytes:
            sections.extend(attachment_sections(attachment.file_name, attachment.file_bytes, load, depth))
    if not sections:
        raise LoadError("no text found in the e-mail")
    return sections
