"""The darklinks config section and the per-site signatures table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor.config import BAIDUSPIDER_USER_AGENT, ConfigError, config_from_mapping, load_config
from monitor.core.clock import FixedClock
from monitor.store.database import MIGRATIONS, Store

REPO = Path(__file__).resolve().parents[1]


def test_defaults_keep_old_configs_working() -> None:
    opts = config_from_mapping({}).darklinks
    assert opts.spider_user_agents == (BAIDUSPIDER_USER_AGENT,)
    assert (opts.double_fetch, opts.spider_budget, opts.outbound_min_terms) == ("every_page", 3000, 2)
    assert opts.spider_rotation_days == 7
    # the old name of the budget still loads
    assert config_from_mapping({"darklinks": {"double_fetch_max_pages": 20}}).darklinks.spider_budget == 20


def test_example_config_documents_the_section() -> None:
    opts = load_config(REPO / "config.yaml", env={}).darklinks
    assert opts.spider_user_agents[0] == BAIDUSPIDER_USER_AGENT
    assert "darklinks:" in (REPO / "config.yaml").read_text(encoding="utf-8")


def test_bad_values_name_their_key_path() -> None:
    with pytest.raises(ConfigError) as err:
        config_from_mapping(
            {
                "darklinks": {
                    "allow_domains": ["partner.cn", "http://x.cn/"],
                    "double_fetch_paths": ["zjsx/"],
                    "extra_vocabulary": ["私服", " "],
                    "double_fetch": "everything",
                    "outbound_min_terms": 0,
                    "spider_agents": [],
                }
            }
        )
    paths = [p for p, _ in err.value.problems]
    assert paths == [
        "darklinks.extra_vocabulary[1]",
        "darklinks.allow_domains[1]",
        "darklinks.double_fetch",
        "darklinks.double_fetch_paths[0]",
        "darklinks.outbound_min_terms",
        "darklinks.spider_agents",
    ]


def test_allow_domains_are_normalised() -> None:
    assert config_from_mapping({"darklinks": {"allow_domains": [".Partner.CN"]}}).darklinks.allow_domains == (
        "partner.cn",
    )


def test_signatures_table_migration_and_api(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "m.db"
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.signatures("portal") == {}
        store.put_signatures(
            "portal", {"darklinks.homepage": {"title": "示例县", "known_domains": ["a.cn"]}}, clock.now()
        )
        store.put_signatures("portal", {"darklinks.homepage": {"title": "示例县人民政府"}}, clock.now())
        store.put_signatures("other", {"darklinks.homepage": {"title": "x"}}, clock.now())
    with Store(path) as store:  # reopened: migrations do not run twice, records persist
        assert store.signatures("portal") == {"darklinks.homepage": {"title": "示例县人民政府"}}
    rows = (
        sqlite3.connect(path)
        .execute("SELECT site, kind, updated_at FROM signatures ORDER BY site")
        .fetchall()
    )
    assert rows == [
        ("other", "darklinks.homepage", "2026-11-26T09:30:00+08:00"),
        ("portal", "darklinks.homepage", "2026-11-26T09:30:00+08:00"),
    ]
