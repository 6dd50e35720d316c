"""A new-media post as every source adapter returns it and the store keeps it.

Kept in ``monitor`` (not ``checks``) because the store persists it and the bulletin reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Post:
    """One post of one account, normalised.

    ``published_at`` is always aware (dates a source gave without a zone are read in the configured zone,
    Asia/Shanghai). ``original`` is None when the source does not tell whether a post is original (原创).
    """

    account: str
    post_id: str
    title: str
    url: str
    published_at: datetime
    pinned: bool = False
    original: bool | None = None

    def __post_init__(self) -> None:
        if self.published_at.tzinfo is None:
            raise ValueError("Post.published_at must be timezone-aware")
