"""The one table of bulletin wording: duty names, problem types (问题类型), figures and unit groups.

Every duty that stores findings (``Finding.duty`` = the check's name) maps to its Chinese label here;
every finding kind's label comes from the kinds its check family declares (:mod:`checks.kinds`). A duty
or kind missing from the tables still shows: an unknown kind is labelled with its duty's name, an unknown
duty with its own name, so a new check never disappears from the bulletin.
"""

from __future__ import annotations

from dataclasses import dataclass

from checks.kinds import finding_kinds


@dataclass(frozen=True)
class DutyInfo:
    """How the bulletin names a duty (a check) and what it monitors."""

    label: str  # 死链检测
    subject: str  # what it looks at: 网站 / 政务新媒体


#: Duties in the order the bulletin lists them. Duties not listed here are appended by name.
DUTIES: dict[str, DutyInfo] = {
    "availability": DutyInfo("站点可用性监测", "网站"),
    "identity": DutyInfo("网站标识规范检查", "网站"),
    "links": DutyInfo("链接可用性检测（死链）", "网站"),
    "columns": DutyInfo("栏目更新检查", "网站"),
    "units": DutyInfo("部门和乡镇政务公开检查", "网站"),
    "darklinks": DutyInfo("暗链检测", "网站"),
    "typos": DutyInfo("错别字与严重表述错误检查", "网站"),
    "sensitive": DutyInfo("敏感词检查", "网站"),
    "privacy": DutyInfo("个人隐私信息检查", "网站"),
    "newmedia": DutyInfo("政务新媒体更新检查", "政务新媒体"),
}

#: The bulletin's 问题类型 in the order it lists them; a label no kind uses any more is harmless here.
TYPE_ORDER: tuple[str, ...] = (
    "站点无法访问",
    "首页不更新",
    "首页不更新（预警）",
    "栏目不更新",
    "栏目临近更新期限（预警）",
    "空白栏目",
    "冗余栏目（建议整合或关闭）",
    "栏目日期异常",
    "互动回应差",
    "留言答复不及时",
    "政府信息公开年报问题",
    "监测源异常",
    "暗链",
    "页面标题或关键词被篡改",
    "首页疑似被篡改",
    "外链指向违规内容",
    "严重表述错误",
    "错别字",
    "不规范表述",
    "敏感词",
    "个人隐私信息泄露",
    "新媒体不更新",
    "僵尸账号",
    "新媒体原创度不高",
    "新媒体政策类信息较少",
    "首页链接不可用",
    "链接不可用（死链）",
    "链接无法自动检测（反爬虫防护）",
    "HTTPS证书问题",
    "IPv6支持问题",
    "网站标识不规范",
)

#: (duty, kind) → 问题类型, from the kinds each check family declares (``checks/<family>/kinds.py``).
PROBLEM_TYPES: dict[tuple[str, str], str] = {
    (duty, name): kind.label for duty, kinds in finding_kinds().items() for name, kind in kinds.items()
}

_TYPE_ORDER = {label: i for i, label in enumerate(TYPE_ORDER)}


def duty_label(duty: str) -> str:
    """Chinese name of a duty; an unknown duty shows as its own name."""
    info = DUTIES.get(duty)
    return info.label if info else duty


def problem_type(duty: str, kind: str) -> str:
    """问题类型 of a finding; an unknown kind shows with its duty's name (``暗链检测：new_kind``)."""
    label = PROBLEM_TYPES.get((duty, kind))
    return label if label is not None else f"{duty_label(duty)}：{kind}"


def type_order(label: str) -> tuple[int, str]:
    """Sort key: known types in table order, then unknown ones by name."""
    return (_TYPE_ORDER.get(label, len(_TYPE_ORDER)), label)


def duty_order(duty: str) -> tuple[int, str]:
    """Sort key: known duties in table order, then unknown ones by name."""
    order = list(DUTIES)
    return (order.index(duty) if duty in order else len(order), duty)


@dataclass(frozen=True)
class Figure:
    """A measured figure a run records in its counts, and how the bulletin adds it up."""

    label: str  # 抓取页面
    unit: str  # 个
    how: str  # "latest": the latest run per site in the week; "sum": every run in the week


#: Run-count keys the 总体情况 reports. Duties add their own keys here.
FIGURES: dict[str, Figure] = {
    "pages_crawled": Figure("抓取页面", "个", "latest"),
    "links_checked": Figure("检测链接", "条", "latest"),
    "columns_checked": Figure("检查栏目", "个", "latest"),
    "accounts_checked": Figure("检查新媒体账号", "个", "latest"),
    "probes": Figure("可用性探测", "次", "sum"),
}

#: Unit kinds (config ``units[].kind``) → the bulletin's groups, in order.
UNIT_GROUPS = {"department": "县直部门", "township": "乡镇", "office": "其他单位"}
OTHER_UNITS = "其他单位"
#: The same groups in a city's and a district's bulletin (tenants, issue 24).
UNIT_GROUPS_BY_LEVEL = {
    "county": UNIT_GROUPS,
    "city": {"department": "市直部门", "township": "县（市、区）", "office": OTHER_UNITS},
    "district": {"department": "区直部门", "township": "街道和乡镇", "office": OTHER_UNITS},
}
#: The area a tenant's bulletin names (为进一步加强全市…).
AREA_WORDS = {"county": "全县", "city": "全市", "district": "全区"}


def unit_groups(level: str | None) -> dict[str, str]:
    """Unit kind → group label for a tenant's level (county when None: a single county)."""
    return UNIT_GROUPS_BY_LEVEL.get(level or "county", UNIT_GROUPS)


#: Status labels of the 附件 problem list.
STATUS_OPEN, STATUS_FIXED, STATUS_OVERDUE = "待整改", "已整改", "逾期"
