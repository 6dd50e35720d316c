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


# -- issue 20, item 8: configs that must not be accepted --------------------------------------------------
SITE = "sites:\n  - {id: p, name: 示例县, homepage: http://www.shixian.gov.cn/}\n"


def check_config_cli(tmp_path: Path, data: bytes) -> tuple[int, str]:
    """``monitor --config FILE check-config`` on these bytes: exit status and everything printed."""
    path = tmp_path / "config.yaml"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["--config", str(path), "check-config"])
    return result.exit_code, result.output


def test_infinite_and_nan_numbers_are_rejected(tmp_path: Path) -> None:
    for value in (".inf", "-.inf", ".nan", "1e999"):
        found = problems(tmp_path, SITE + f"crawl:\n  timeout_seconds: {value}\n")
        assert found and found[0][0] == "crawl.timeout_seconds", (value, found)
        assert "finite" in found[0][1], (value, found)
    found = problems(tmp_path, SITE + "schedule:\n  grace_seconds: .inf\n")
    assert found[0][0] == "schedule.grace_seconds"
    code, out = check_config_cli(tmp_path, (SITE + "crawl:\n  timeout_seconds: .inf\n").encode())
    assert code == 2 and "crawl.timeout_seconds" in out and "Traceback" not in out


def test_booleans_are_only_true_or_false(tmp_path: Path) -> None:
    # YAML 1.1 reads yes/no/on/off as booleans: a number field would take `yes` as 1.
    found = problems(tmp_path, SITE + "crawl:\n  retries: yes\n")
    assert found[0][0] == "crawl.retries", found
    assert problems(tmp_path, SITE + "crawl:\n  retries: true\n")[0][0] == "crawl.retries"
    for word in ("yes", "no", "on", "off", "1", "'true'"):
        found = problems(tmp_path, SITE + f"schedule:\n  catch_up: {word}\n")
        assert found[0][0] == "schedule.catch_up" and "true or false" in found[0][1], (word, found)
    for word, expected in (("true", True), ("false", False), ("True", True), ("FALSE", False)):
        path = write(tmp_path, SITE + f"schedule:\n  catch_up: {word}\n")
        assert load_config(path, env={}).schedule.catch_up is expected
    # Strings that YAML 1.1 would have turned into booleans stay what was written.
    path = write(tmp_path, "sites:\n  - {id: p, name: no, homepage: http://www.shixian.gov.cn/}\n")
    assert load_config(path, env={}).sites[0].name == "no"
    code, out = check_config_cli(tmp_path, (SITE + "crawl:\n  retries: yes\n").encode())
    assert code == 2 and "crawl.retries" in out
    # Words that mean "off" where a word is expected stay words (YAML 1.1 made them false, an error).
    path = write(tmp_path, SITE + "schedule:\n  duties: {links: off, patrol: false}\n")
    duties = load_config(path, env={}).schedule.duties
    assert not duties["links"].enabled and not duties["patrol"].enabled


def test_duplicate_keys_are_rejected_with_their_line(tmp_path: Path) -> None:
    text = SITE + "crawl:\n  retries: 2\n  timeout_seconds: 10\n  retries: 5\n"
    (found,) = problems(tmp_path, text)
    assert found[0] == "crawl.retries"
    assert "duplicate key 'retries' on line 6 (first on line 4)" in found[1]
    text = "crawl:\n  retries: 2\n" + SITE + "crawl:\n  retries: 3\n"
    (found,) = problems(tmp_path, text)
    assert found[0] == "crawl" and "line 5 (first on line 1)" in found[1]
    text = "sites:\n  - {id: p, name: 甲, id: q, homepage: http://www.shixian.gov.cn/}\n"
    (found,) = problems(tmp_path, text)
    assert found[0] == "sites[0].id" and "line 2" in found[1]
    code, out = check_config_cli(tmp_path, text.encode())
    assert code == 2 and "sites[0].id: duplicate key 'id'" in out


def test_an_empty_config_file_is_an_error(tmp_path: Path) -> None:
    for text in ("", "\n\n", "# only a comment\n", "---\n"):
        (found,) = problems(tmp_path, text)
        assert "empty" in found[1], (text, found)
        code, out = check_config_cli(tmp_path, text.encode())
        assert code == 2 and "config.yaml" in out and "empty" in out


def test_a_config_that_is_not_utf8_names_the_file_and_byte_offset(tmp_path: Path) -> None:
    good = (SITE + "timezone: Asia/Shanghai\n").encode()
    data = good.replace("示例县".encode(), b"\xff" + "示例县".encode("gbk"))  # 0xff never occurs in UTF-8
    offset = data.index(b"\xff")
    path = write(tmp_path, "")
    path.write_bytes(data)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(path) in str(info.value)
    (found,) = info.value.problems
    assert f"byte {offset}" in found[1] and "line 2" in found[1] and "UTF-8" in found[1], found
    code, out = check_config_cli(tmp_path, data)
    assert code == 2 and f"byte {offset}" in out and "Traceback" not in out
