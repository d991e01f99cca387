"""A digest as a MIME message: ``multipart/alternative`` holding the plain text and a
``multipart/related`` of the HTML and its PNG charts, each attached inline by Content-ID.

That nesting is what mail clients need to show the charts inside the HTML instead of as
attachments (and to fall back to the text). Headers are built from config values and
numbers only, and stripped of CR/LF/NUL again here.
"""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from tracker.reports.digest import Digest, header_safe


def new_message_id(sender: str) -> str:
    """A fresh ``<...@domain>`` Message-ID in the sender's domain."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "tracker.invalid"
    return make_msgid(domain=header_safe(domain))


def compose(
    digest: Digest,
    *,
    sender: str,
    reply_to: str | None,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """The message for ``digest`` (text part, then HTML with its images inline)."""
    message = _headed(sender, digest.recipient, reply_to, digest.subject, message_id, date)
    message.set_content(digest.text, subtype="plain", charset="utf-8")
    message.add_alternative(digest.html, subtype="html", charset="utf-8")
    html = list(message.iter_parts())[1]
    assert isinstance(html, EmailMessage)
    for chart in digest.charts:
        html.add_related(
            chart.data, maintype="image", subtype="png", cid=f"<{chart.cid}>", disposition="inline"
        )
    return message


def _headed(
    sender: str,
    recipient: str,
    reply_to: str | None,
    subject: str,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """An empty auto-generated message with its headers (each one line)."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = header_safe(sender)
    message["To"] = header_safe(recipient)
    if reply_to:
        message["Reply-To"] = header_safe(reply_to)
    message["Subject"] = header_safe(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = header_safe(message_id)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    return message


def compose_text(
    *, sender: str, recipient: str, subject: str, text: str, message_id: str, date: datetime
) -> EmailMessage:
    """A plain-text, auto-generated message (the operational alerts)."""
    message = _headed(sender, recipient, None, subject, message_id, date)
    message.set_content(text, subtype="plain", charset="utf-8")
    return message
