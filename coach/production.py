"""Production mode (`COACH_ENV=production`): the service refuses to start with settings that are only
safe on one person's machine. Every problem is collected, so one start shows them all.

`coach serve` prints each on its own line and exits 2; `web.app.create_app` raises `UnsafeSettings`,
so no other launcher (uvicorn/gunicorn with an app factory) can start around the check.
"""

from __future__ import annotations

from coach.settings import LOOPBACK_HOSTS, Settings


class UnsafeSettings(RuntimeError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def problems(settings: Settings) -> list[str]:
    """One Japanese + English line per unsafe setting (empty outside production)."""
    if settings.env != "production":
        return []
    found = []
    if settings.api_open:
        found.append("COACH_API_OPEN=true は本番では使えません。プロキシの後ろではすべての要求がこの端末から来たように見え、"
                     "ログインなしで API が開いてしまいます。false にして、プログラムには API トークンを使ってください"
                     " (COACH_API_OPEN must be false in production: behind a proxy every request looks local; use API tokens)")
    if not settings.secure_cookies:
        found.append("COACH_SECURE_COOKIES=false は本番では使えません。HTTPS で公開し、true にしてください"
                     " (COACH_SECURE_COOKIES must be true in production: serve over HTTPS)")
    if "*" in settings.allowed_hosts or not set(settings.allowed_hosts) - set(LOOPBACK_HOSTS):
        found.append("COACH_ALLOWED_HOSTS にこのサービスのホスト名（例 coach.town.lg.jp）を設定してください。「*」は使えません"
                     " (COACH_ALLOWED_HOSTS must name this service's host names, not only loopback names, and not *)")
    if not settings.database_url:
        found.append("COACH_DATABASE_URL を明示してください。本番で組み込みの SQLite を暗黙に使うことはできません"
                     " (COACH_DATABASE_URL must be set explicitly in production, e.g. postgresql+psycopg://…)")
    return found


def check(settings: Settings) -> None:
    found = problems(settings)
    if found:
        raise UnsafeSettings(found)
