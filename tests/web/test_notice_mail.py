"""Notice e-mail (issue #11 item 3) against a real SMTP server on 127.0.0.1 (aiosmtpd), started here.

Mail goes out after the move's transaction commits, from a background thread: the request never
waits for it, and a server that is down is logged, never raised."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from coach.settings import Settings
from tests.conftest import LOOPBACK, TOWN_PC, logged_in, login_form_token, sheet_data

DATA = sheet_data(title="転入手続きの窓口対応")


class Inbox:
    """aiosmtpd's handler: every message the server accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    def wait_for(self, n: int, seconds: float = 20.0) -> list[tuple[list[str], EmailMessage]]:
        deadline = time.monotonic() + seconds
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def app_with(tmp_path: Path, **smtp: Any) -> TestClient:
    from web.app import create_app

    settings = Settings(data_dir=tmp_path, load_samples=False, allowed_hosts=["testserver", "127.0.0.1"], **smtp)
    return TestClient(create_app(settings), client=LOOPBACK)


def create_with_email(dx: TestClient, login: str, role: str, email: str, section: str = "") -> TestClient:
    """Through 設定's account form; returns that person, logged in with the password shown once."""
    r = dx.post("/admin/accounts", data={"login": login, "name": f"{login}さん", "role": role, "section": section,
                                         "email": email}, follow_redirects=False)
    assert r.status_code == 303, r.text
    password = BeautifulSoup(dx.get("/admin").text, "html.parser").select_one(".issued .password").text
    person = TestClient(dx.app, client=TOWN_PC)
    ok = person.post("/login", data={"login": login, "password": password, "csrf_token": login_form_token(person)},
                     follow_redirects=False)
    assert ok.status_code == 303
    return person


def test_notices_are_mailed_to_people_with_an_address(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    with app_with(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_from="coach@town.example.jp") as client:
        admin = logged_in(client.app, "dx-admin", "dx", None)  # no address: in-app only
        create_with_email(admin, "dx-mail", "dx", "dx-mail@town.example.jp")
        staff = logged_in(client.app, "madoguchi", "staff", "住民窓口係")
        client.app.state.services.accounts.set_email(  # type: ignore[attr-defined]
            client.app.state.services.accounts.by_login("madoguchi").id, 1, "madoguchi@town.example.jp")  # type: ignore[attr-defined]
        sid = staff.post("/api/v1/sheets", json=DATA).json()["id"]
        assert staff.post(f"/sheets/{sid}", data={**DATA, "op": "submit"}, follow_redirects=False).status_code == 303

        (to, message), = inbox.wait_for(1)
        assert to == ["dx-mail@town.example.jp"]
        assert message["From"] == "coach@town.example.jp" and message["To"] == "dx-mail@town.example.jp"
        assert "提出" in message["Subject"] and "転入手続きの窓口対応" in message["Subject"]
        body = message.get_content()
        assert "madoguchiさん" in body and f"/review/{sid}（コーチのアドレスのあとに続けて開いてください）" in body

        r = admin.post(f"/review/{sid}/decision", data={"decision": "return", "note": "目的を書き直してください。"},
                       follow_redirects=False)
        assert r.status_code == 303
        messages = inbox.wait_for(2)
        assert len(messages) == 2
        to, message = messages[1]
        assert to == ["madoguchi@town.example.jp"] and "差し戻" in message["Subject"]
        assert "目的を書き直してください。" in message.get_content()
        assert len(inbox.wait_for(3, seconds=1.0)) == 2  # each notice is mailed once


def test_a_dead_smtp_server_is_logged_and_the_request_still_succeeds(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="coach.mail")
    with app_with(tmp_path, smtp_host="127.0.0.1", smtp_port=free_port()) as client:  # nobody listens there
        staff = logged_in(client.app, "madoguchi", "staff", "住民窓口係")
        dx = logged_in(client.app, "dx-team", "dx", None)
        services = client.app.state.services  # type: ignore[attr-defined]
        services.accounts.set_email(services.accounts.by_login("dx-team").id, 1, "dx@town.example.jp")
        sid = staff.post("/api/v1/sheets", json=DATA).json()["id"]
        assert staff.post(f"/sheets/{sid}", data={**DATA, "op": "submit"}, follow_redirects=False).status_code == 303
        deadline = time.monotonic() + 20
        while not any("メール" in r.getMessage() or "mail" in r.getMessage() for r in caplog.records) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(r.name == "coach.mail" and "dx@town.example.jp" in r.getMessage() for r in caplog.records)
        assert "提出" in dx.get("/notices").text  # in-app, whatever the mail did


def test_without_smtp_settings_nothing_is_mailed_and_nothing_breaks(tmp_path: Path) -> None:
    with app_with(tmp_path) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        assert services.mailer is None
        staff = logged_in(client.app, "madoguchi", "staff", "住民窓口係")
        dx = logged_in(client.app, "dx-team", "dx", None)
        services.accounts.set_email(services.accounts.by_login("dx-team").id, 1, "dx@town.example.jp")
        sid = staff.post("/api/v1/sheets", json=DATA).json()["id"]
        assert staff.post(f"/sheets/{sid}", data={**DATA, "op": "submit"}, follow_redirects=False).status_code == 303
        assert "提出" in dx.get("/notices").text


def test_the_account_form_takes_an_optional_address_and_refuses_a_wrong_one(tmp_path: Path) -> None:
    with app_with(tmp_path) as client:
        dx = logged_in(client.app, "dx-team", "dx", None)
        r = dx.post("/admin/accounts", data={"login": "zeimu", "name": "山本 健", "role": "staff",
                                             "section": "税務係", "email": "メール"})
        assert r.status_code == 422
        error = BeautifulSoup(r.text, "html.parser").select_one("#a-email ~ .field-error")
        assert error is not None and "メールアドレス" in error.text
        assert BeautifulSoup(r.text, "html.parser").select_one("#a-email")["value"] == "メール"  # kept
        for login, email in (("zeimu", "yamamoto@town.example.jp"), ("zeimu2", "")):
            r = dx.post("/admin/accounts", data={"login": login, "name": "山本 健", "role": "staff",
                                                 "section": "税務係", "email": email}, follow_redirects=False)
            assert r.status_code == 303
        accounts = client.app.state.services.accounts  # type: ignore[attr-defined]
        assert accounts.by_login("zeimu").email == "yamamoto@town.example.jp"
        assert accounts.by_login("zeimu2").email is None


def test_with_a_public_url_the_mail_links_the_full_address(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    with app_with(tmp_path, smtp_host="127.0.0.1", smtp_port=port, public_url="https://coach.town.example.jp/") as client:
        admin = logged_in(client.app, "dx-admin", "dx", None)
        create_with_email(admin, "dx-mail", "dx", "dx-mail@town.example.jp")
        staff = logged_in(client.app, "madoguchi", "staff", "住民窓口係")
        sid = staff.post("/api/v1/sheets", json=DATA).json()["id"]
        assert staff.post(f"/sheets/{sid}", data={**DATA, "op": "submit"}, follow_redirects=False).status_code == 303
        (_, message), = inbox.wait_for(1)
        assert f"https://coach.town.example.jp/review/{sid}\n" in message.get_content()  # one slash, a full link


def test_a_public_url_that_is_not_a_web_address_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="public_url"):
        Settings(public_url="coach.town.example.jp")
