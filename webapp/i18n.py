"""Chinese and English labels.

Labels are looked up by key in :data:`CATALOG`; a missing translation falls back to
English, and a missing key shows the key itself so it is noticed. Each area of the web
app keeps its own labels beside its code and adds them with :func:`add_labels`. The
language comes from the session (set from the user's profile at sign-in, changed by the
switch). Pages pass the labels their scripts need with :func:`labels_for`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request, session, url_for

LANGUAGES = ("en", "zh")

CATALOG: dict[str, dict[str, str]] = {
    "app_name": {"en": "Call Center", "zh": "呼叫中心"},
    "sign_in": {"en": "Sign in", "zh": "登录"},
    "sign_out": {"en": "Sign out", "zh": "退出"},
    "username": {"en": "Username", "zh": "用户名"},
    "password": {"en": "Password", "zh": "密码"},
    "bad_credentials": {"en": "Wrong username or password.", "zh": "用户名或密码错误。"},
    "too_many_attempts": {
        "en": "Too many failed attempts; wait a few minutes and try again.",
        "zh": "失败次数过多，请稍后再试。",
    },
    "welcome": {"en": "Welcome", "zh": "欢迎"},
    "your_roles": {"en": "Your roles", "zh": "您的角色"},
    "role_agent": {"en": "Agent", "zh": "坐席"},
    "role_supervisor": {"en": "Supervisor", "zh": "班长"},
    "role_campaign_manager": {"en": "Campaign manager", "zh": "外呼管理员"},
    "role_admin": {"en": "Administrator", "zh": "管理员"},
    "language": {"en": "Language", "zh": "语言"},
    "error": {"en": "Error", "zh": "错误"},
    "back": {"en": "Back", "zh": "返回"},
    "skip_to_content": {"en": "Skip to the page", "zh": "跳到页面内容"},
    "main_menu": {"en": "Main menu", "zh": "主菜单"},
    "account": {"en": "Language and account", "zh": "语言与账号"},
}


def add_labels(labels: dict[str, dict[str, str]]) -> None:
    """Add an area's labels; a key defined twice is a programming error."""
    clash = CATALOG.keys() & labels.keys()
    if clash:
        raise ValueError(f"labels defined twice: {', '.join(sorted(clash))}")
    CATALOG.update(labels)


def labels_for(prefixes: tuple[str, ...], lang: str | None = None) -> dict[str, str]:
    """Every label whose key starts with one of ``prefixes``, in the current language
    (rendered into a page as JSON for its scripts)."""
    return {k: translate(k, lang) for k in CATALOG if k.startswith(prefixes)}


def translate(key: str, lang: str | None = None) -> str:
    lang = lang or session.get("lang", "en")
    entry = CATALOG.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["en"]


bp = Blueprint("i18n", __name__)


@bp.route("/lang/<code>", methods=["POST"])
def switch(code: str):
    if code in LANGUAGES:
        session["lang"] = code
    target = request.referrer or url_for("home.index")
    return redirect(target if target.startswith(request.host_url) else url_for("home.index"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["t"] = translate
    app.jinja_env.globals["current_lang"] = lambda: session.get("lang", "en")
