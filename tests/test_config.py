"""Configuration: validated once, errors name the key path, the CLI exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.app.cli import main
from monitor.config import Availability, ConfigError, Crawl, adhoc_config, load_config

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env=env or {})
    return info.value.problems


def test_the_shipped_example_config_loads_and_is_complete() -> None:
    config = load_config(REPO / "config.yaml", env={})
    assert config.timezone == "Asia/Shanghai"
    site = config.sites[0]
    assert site.homepage == "http://www.shixian.gov.cn/"
    # The portal, plus the two small demo sites the identity check needs.
    assert [s.id for s in config.sites] == ["portal", "jyj", "zwfw"]
    assert {u.kind for u in config.units} == {"department", "township"}
    assert config.database_path == REPO / "var" / "monitor.db"
    # Every field of the crawl section is spelled out in the example, so users see every knob.
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    for name in Crawl.model_fields:
        assert f"  {name}:" in text, name
    for name in Availability.model_fields:  # optional ones may be shown commented out
        assert f"  {name}:" in text or f"  # {name}:" in text, name
    assert [t.name for t in config.availability.for_site("portal").targets] == [
        "在线办事",
        "办事指南",
        "查询系统",
    ]


def test_models_are_frozen(tmp_path: Path) -> None:
    config = load_config(REPO / "config.yaml", env={})
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        config.sites[0].name = "x"  # type: ignore[misc]


def test_unknown_key_is_named_with_its_path(tmp_path: Path) -> None:
    text = (
        "sites:\n  - id: p\n    name: 门户\n    homepage: http://a.gov.cn/\n"
        "    scope: {hosts: [a.gov.cn], exlude: []}\n"
    )
    assert problems(tmp_path, text) == [("sites[0].scope.exlude", "unknown key")]


def test_bad_regex_names_list_index(tmp_path: Path) -> None:
    text = (
        "sites:\n  - id: p\n    name: 门户\n    homepage: http://a.gov.cn/\n"
        "    scope:\n      exclude: ['/a', '/b', '([unclosed']\n"
    )
    ((path, msg),) = problems(tmp_path, text)
    assert path == "sites[0].scope.exclude[2]" and "regular expression" in msg


def test_wrong_type_and_bad_url(tmp_path: Path) -> None:
    text = "crawl: {max_pages: lots}\nsites:\n  - {id: p, name: 门户, homepage: 'ftp://a.gov.cn/'}\n"
    found = dict(problems(tmp_path, text))
    assert set(found) == {"crawl.max_pages", "sites[0].homepage"}
    assert "http" in found["sites[0].homepage"]


def test_cross_references_are_checked(tmp_path: Path) -> None:
    text = (
        "sites:\n  - {id: p, name: 门户, homepage: 'http://a.gov.cn/'}\n"
        "units:\n  - {name: 教育局, site: nope}\n"
    )
    assert problems(tmp_path, text) == [("units[0].site", "no site with id 'nope'")]


def test_env_expansion_and_missing_variable(tmp_path: Path) -> None:
    text = "storage: {database: '${DATA}/m.db'}\ntimezone: '${TZNAME:-Asia/Shanghai}'\n"
    config = load_config(write(tmp_path, text), env={"DATA": "/srv/monitor"})
    assert config.storage.database == "/srv/monitor/m.db" and config.timezone == "Asia/Shanghai"
    assert problems(tmp_path, text, env={}) == [("storage.database", "environment variable DATA is not set")]


def test_yaml_syntax_error_says_where(tmp_path: Path) -> None:
    ((path, msg),) = problems(tmp_path, "sites: [\n  - id: p\n")
    assert path == "" and "line" in msg


def test_adhoc_config_scopes_to_the_host() -> None:
    _, site = adhoc_config("http://www.other.gov.cn/index.html")
    assert site.crawl_hosts == ("www.other.gov.cn",) and site.id == "www-other-gov-cn"


def test_cli_exits_2_naming_the_key_path(tmp_path: Path) -> None:
    path = write(tmp_path, "crawl:\n  timeout_seconds: -1\n")
    result = CliRunner().invoke(main, ["--config", str(path), "check-config"])
    assert result.exit_code == 2
    assert "crawl.timeout_seconds" in result.output
    result = CliRunner().invoke(main, ["--config", str(path), "run", "links"])
    assert result.exit_code == 2


def test_check_config_prints_a_summary() -> None:
    result = CliRunner().invoke(main, ["--config", str(REPO / "config.yaml"), "check-config"])
    assert result.exit_code == 0, result.output
    assert "portal: 示例县人民政府门户网站" in result.output
    assert "5 县直部门, 4 乡镇" in result.output
