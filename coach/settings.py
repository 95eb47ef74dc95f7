"""The one settings object. Everything is read from COACH_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "::1"]


class Settings(BaseSettings):
    """Safe defaults for the embedded mode: a SQLite file under COACH_DATA_DIR, rules only."""

    model_config = SettingsConfigDict(env_prefix="COACH_", extra="ignore")

    env: Literal["development", "production"] = Field(
        default="development", description="production にすると、安全でない設定では起動しない（coach/production.py）"
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(LOOPBACK_HOSTS),
        description="受け付ける Host 名（カンマ区切り、例 coach.town.lg.jp。*.example.jp の形も可、* はすべて）。"
                    "DNS リバインディング対策",
    )

    data_dir: Path = Field(default=Path("data"), description="ローカルの状態（SQLite など）を置くフォルダ")
    database_url: str = Field(
        default="", description="SQLAlchemy の URL。空なら COACH_DATA_DIR/coach.db の SQLite"
    )
    org_name: str = Field(default="サンプル町", description="単一組織で動かすときの組織（自治体）名")
    load_samples: bool = Field(default=True, description="データベースが空のとき見本のシートを読み込む")
    chroma_url: str = Field(default="", description="Chroma サーバーの URL（例 http://127.0.0.1:8001）。空なら組み込み")
    embedding: Literal["problem-ngram", "openai"] = Field(
        default="problem-ngram", description="似ているシートの埋め込み。problem-ngram は通信不要"
    )
    embedding_model: str = Field(default="text-embedding-3-small", description="embedding=openai のときのモデル名")
    embedding_base_url: str = Field(default="", description="OpenAI 互換エンドポイント（空なら OpenAI）")
    embedding_api_key: str = Field(default="", description="埋め込み API のキー（索引には保存されません）")
    llm_base_url: str = Field(default="", description="OpenAI 互換の LLM エンドポイント（OpenAI・Azure OpenAI・vLLM・Ollama・llama.cpp）")
    llm_api_key: str = Field(default="", description="LLM の API キー")
    llm_model: str = Field(default="", description="LLM のモデル名。空なら AI コーチは使わずルールだけで動く")
    llm_timeout: float = Field(default=30.0, gt=0, le=600, description="LLM 1回の呼び出しの制限時間（秒）")
    llm_structured: Literal["function_calling", "json_schema", "json_object_schema", "json_mode"] = Field(
        default="function_calling", description="構造化出力の方式（サーバーが受け付けるもの）"
    )
    llm_mask_pii: bool = Field(default=True, description="LLM に送る前に個人情報を伏せる")
    llm_tags: bool = Field(
        default=False, description="提出されたシートに、LLM が決まった一覧から問題のタグを付け、似ているシートの検索に使う（要 coach reindex）"
    )
    api_open: bool = Field(
        default=True, description="ログインなしの JSON API（/api/v1）を、この端末（127.0.0.1）からだけ受け付ける"
    )
    secure_cookies: bool = Field(default=False, description="ログインの Cookie を HTTPS だけで送る（HTTPS で公開するときは true）")
    session_idle_hours: int = Field(default=8, ge=1, le=168, description="操作がないままこの時間がたつとログアウト")
    autosave_window_minutes: int = Field(
        default=10, ge=0, description="この分数以内の自動保存は同じ版にまとめる"
    )

    auto_migrate: bool | None = Field(
        default=None,
        description="起動時にデータベースの形式を最新にする。空なら組み込みの SQLite のときだけ true（PostgreSQL は coach db upgrade で）",
    )
    smtp_host: str = Field(default="", description="お知らせをメールでも送る SMTP サーバー。空ならアプリ内のお知らせだけ")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP サーバーのポート（STARTTLS なら多くは 587）")
    smtp_user: str = Field(default="", description="SMTP の認証ユーザー（空なら認証しない）")
    smtp_password: str = Field(default="", description="SMTP の認証パスワード")
    smtp_from: str = Field(default="curry-coach@localhost", description="お知らせメールの差出人アドレス")
    smtp_starttls: bool = Field(default=False, description="接続後に STARTTLS で暗号化する")
    public_url: str = Field(
        default="", description="職員がコーチを開くアドレス（例 https://coach.town.lg.jp）。お知らせメールのリンクに使う。空ならパスだけ"
    )
    log_format: Literal["text", "json"] = Field(default="text", description="ログの形式。json なら1行に1つの JSON")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("COACH_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator("chroma_url", "embedding_base_url", "llm_base_url", "public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [h.strip().lower() for h in value.split(",") if h.strip()]
        return value

    @field_validator("org_name")
    @classmethod
    def _org_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("COACH_ORG_NAME must not be blank")
        return value.strip()

    @field_validator("allowed_hosts")
    @classmethod
    def _some_host(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("COACH_ALLOWED_HOSTS must name at least one host (or *)")
        return value

    def allowed_host_list(self) -> list[str]:
        return list(self.allowed_hosts)

    def llm_enabled(self) -> bool:
        return bool(self.llm_model)

    def migrates_on_start(self) -> bool:
        return self.auto_migrate if self.auto_migrate is not None else not self.database_url

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'coach.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
