"""The task queue's configuration (docs/scale-out.md): checked at load, and `monitor worker` refuses to
start without it, with one line and exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitor.app.cli import main
from monitor.app.queue import periodic_id, site_lock, task_sites
from monitor.config import ConfigError, config_from_mapping

SITES = [
    {"id": "a", "name": "甲", "homepage": "http://www.a.gov.cn/"},
    {"id": "b", "name": "乙", "homepage": "http://www.b.gov.cn/"},
]


def test_the_local_scheduler_stays_the_default() -> None:
    config = config_from_mapping({"sites": SITES})
    assert config.queue.backend == "local"


def test_the_queue_needs_the_store_on_postgresql() -> None:
    with pytest.raises(ConfigError) as err:
        config_from_mapping({"sites": SITES, "queue": {"backend": "procrastinate"}})
    assert err.value.problems[0][0] == "queue.backend"
    assert "storage.url" in err.value.problems[0][1]
    config = config_from_mapping(
        {
            "sites": SITES,
            "storage": {"url": "postgresql://monitor@db.example:5432/monitor"},
            "queue": {"backend": "procrastinate", "task_timeout": "90m"},
        }
    )
    assert config.queue.task_timeout == 5400


def test_a_heartbeat_too_close_to_the_stall_limit_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        config_from_mapping({"queue": {"heartbeat_seconds": 10, "stalled_after_seconds": 15}})
    assert err.value.problems[0][0] == "queue.stalled_after_seconds"


def test_worker_without_the_queue_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"sites": SITES}), encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "worker"])
    assert result.exit_code == 2
    assert "queue.backend: procrastinate" in result.output
    assert "Traceback" not in result.output


def test_one_task_per_site_locked_by_site_and_one_for_site_less_duties() -> None:
    config = config_from_mapping({"sites": SITES})
    assert task_sites("patrol", config) == ["a", "b"]
    assert task_sites("report", config) == [None]
    assert task_sites("backup", config) == [None]
    assert site_lock("patrol", "a") == site_lock("links", "a") == "site:a"
    assert site_lock("report", None) == "duty:report"
    assert periodic_id("patrol", "a") != periodic_id("links", "a")


def test_check_config_says_how_duties_run(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "sites": SITES,
                "storage": {"url": "postgresql://monitor@db.example:5432/monitor"},
                "queue": {"backend": "procrastinate", "stalled_after_seconds": 90},
            }
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--config", str(path), "check-config"])
    assert result.exit_code == 0, result.output
    assert "queue:     procrastinate 'monitor'" in result.output and "lost after 90s" in result.output
