"""Notice e-mail: a background thread sends the notices marked for mail, after their transaction committed.

Only built when COACH_SMTP_HOST is set (coach/app.py). The notices table is the outbox: a move of the
review cycle writes its notices with `mail='pending'` in its own transaction; this worker claims each
row (one conditional UPDATE, so several server processes never send one twice), sends it, and marks
it sent or failed. A request never waits for the mail server, and a failure is logged, never raised.
Notices that waited longer than MAX_AGE (a server configured long after) are not mailed any more.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from coach.background import BackgroundLoop
from coach.db import now
from coach.workspace.accounts import User
from coach.workspace.notices import NoticeRow, headline

log = logging.getLogger("coach.mail")
MAX_AGE = timedelta(days=1)
BATCH = 50
TIMEOUT = 15.0  # seconds for connecting to and talking with the mail server


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    user: str = ""
    password: str = ""
    sender: str = "curry-coach@localhost"
    starttls: bool = False
    public_url: str = ""  # COACH_PUBLIC_URL: links in the mail are full addresses when it is set

    @classmethod
    def from_settings(cls, settings: Any) -> SmtpConfig | None:
        if not settings.smtp_host:
            return None
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_password,
                   settings.smtp_from, settings.smtp_starttls, settings.public_url)


def message_of(row: NoticeRow, to: str, sender: str, public_url: str = "") -> EmailMessage:
    """The notice as a plain-text mail. Its link is `public_url` + the notice's path when the town set
    COACH_PUBLIC_URL (a mail client cannot open a bare path), else the path with a hint."""
    message = EmailMessage()
    message["Subject"] = f"[カレーライスシート] {headline(row.kind, row.actor, row.title)}"
    message["From"], message["To"] = sender, to
    lines = [headline(row.kind, row.actor, row.title), ""]
    if row.note:
        lines += [row.note, ""]
    where = f"{public_url}{row.link}" if public_url else f"{row.link}（コーチのアドレスのあとに続けて開いてください）"
    lines += [f"カレーライスシート コーチで開いてください：{where}",
              "（このメールは送信専用です。お知らせはコーチの「お知らせ」にも届いています。）"]
    message.set_content("\n".join(lines))
    return message


class Mailer(BackgroundLoop):
    """Started, woken and stopped as a BackgroundLoop; each step is `drain`."""

    def __init__(self, sessions: sessionmaker[Session], config: SmtpConfig, poll: float = 5.0) -> None:
        super().__init__("coach-mailer", self.drain, log, "mailer: reading the notices failed", poll)
        self._sessions, self.config = sessions, config

    def drain(self) -> int:
        """Send every pending notice (in batches); returns how many were sent."""
        sent = 0
        while not self.stopping.is_set():
            ids = self._pending()
            if not ids:
                return sent
            sent += sum(self._send(i) for i in ids)
        return sent

    def _pending(self) -> list[int]:
        with self._sessions.begin() as s:
            s.execute(update(NoticeRow).where(NoticeRow.mail == "pending", NoticeRow.created_at < now() - MAX_AGE)
                      .values(mail="expired"))
            return list(s.scalars(select(NoticeRow.id).where(NoticeRow.mail == "pending")
                                  .order_by(NoticeRow.id).limit(BATCH)))

    def _send(self, notice_id: int) -> bool:
        with self._sessions.begin() as s:  # claim: only one process moves it from pending to sending
            claimed = s.execute(update(NoticeRow).where(NoticeRow.id == notice_id, NoticeRow.mail == "pending")
                                .values(mail="sending"))
            if not claimed.rowcount:  # type: ignore[attr-defined]
                return False
            row = s.get(NoticeRow, notice_id)
            user = s.get(User, row.user_id) if row else None
            to = user.email if user else None
            message = message_of(row, to, self.config.sender, self.config.public_url) if row and to else None
        ok = message is not None and self._deliver(message, str(to))
        with self._sessions.begin() as s:
            s.execute(update(NoticeRow).where(NoticeRow.id == notice_id).values(mail="sent" if ok else "failed"))
        return ok

    def _deliver(self, message: EmailMessage, to: str) -> bool:
        c = self.config
        try:
            with smtplib.SMTP(c.host, c.port, timeout=TIMEOUT) as smtp:
                if c.starttls:
                    smtp.starttls()
                if c.user:
                    smtp.login(c.user, c.password)
                smtp.send_message(message)
            return True
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail to %s via %s:%d failed: %s", to, c.host, c.port, exc)
            return False
