"""The language of what users read on the command line: run summaries, tables, marks and severities.

The users are Chinese operations staff, so output is Chinese (``zh``) unless asked otherwise: ``--lang en``,
or ``MONITOR_LANG=en``, or a locale that starts with ``en`` (``LANG=en_US.UTF-8``). ``C``/``POSIX`` locales
— the default on servers and in systemd units — stay Chinese. Help texts and log lines are English
(developers' guide); finding messages are always Chinese (they come from the checks).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from monitor.core.findings import Severity

LANGS = ("zh", "en")
_current = {"lang": "zh"}

#: Chinese names of run statuses (the store keeps the English ones).
RUN_STATUS_ZH = {
    "ok": "完成",
    "failed": "失败",
    "interrupted": "已中断",
    "skipped": "跳过（无检查对象）",
    "running": "运行中",
    "degraded": "降级（不作整改判定）",
}

#: Chinese names of finding statuses.
FINDING_STATUS_ZH = {"open": "待整改", "resolved": "已整改", "ignored": "误报（已忽略）"}


def resolve_lang(option: str | None, env: Mapping[str, str] | None = None) -> str:
    """``--lang`` if given, else ``MONITOR_LANG``, else ``en`` for an English locale, else ``zh``."""
    env = os.environ if env is None else env
    if option:
        return option
    chosen = env.get("MONITOR_LANG", "").strip().lower()
    if chosen in LANGS:
        return chosen
    for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(key, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


def set_lang(lang: str) -> None:
    """Choose the language for this process's output."""
    _current["lang"] = lang if lang in LANGS else "zh"


def lang() -> str:
    """The chosen language."""
    return _current["lang"]


def t(zh: str, en: str) -> str:
    """The text in the chosen language."""
    return zh if _current["lang"] == "zh" else en


def severity_choices() -> list[str]:
    """Values ``--severity`` accepts: the English names and the Chinese labels (``扣分``)."""
    return [s.value for s in Severity] + [s.label_zh for s in Severity]


def parse_severity(value: str | None) -> str | None:
    """``扣分`` or ``deduction`` → ``deduction`` (None stays None)."""
    if value is None:
        return None
    for s in Severity:
        if value in (s.value, s.label_zh):
            return s.value
    raise ValueError(f"unknown severity {value!r}; use one of {', '.join(severity_choices())}")


def status_label(status: str) -> str:
    """A run status in the chosen language."""
    return RUN_STATUS_ZH.get(status, status) if _current["lang"] == "zh" else status
