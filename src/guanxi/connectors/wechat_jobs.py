"""What a WeChat publish job's state means, whether read (``freepublish/get``) or pushed
(the ``PUBLISHJOBFINISH`` event)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guanxi.connectors.base import PublishResult, PublishState, TransientError
from guanxi.core.errors import N_

MSG_REFUSED = N_("WeChat refused the request (error {errcode}: {errmsg}).")

PUBLISH_FAILURES = {
    2: N_("WeChat refused the article: its original-content (原创) check failed."),
    3: N_("WeChat could not publish the article. Check it in the Official Accounts Platform."),
    4: N_("WeChat's review rejected the article. Edit it to meet WeChat's rules and retry."),
    5: N_("The article was published, then deleted."),
    6: N_("The article was published, then banned by WeChat."),
}


def result_from_job(job: Mapping[str, Any]) -> PublishResult:
    """What a publish job's state (``freepublish/get``, or the PUBLISHJOBFINISH push) means."""
    publish_id = str(job.get("publish_id", ""))
    try:
        status = int(job.get("publish_status", -1))
    except (TypeError, ValueError):
        status = -1
    items = (job.get("article_detail") or {}).get("item") or []
    urls = [str(item.get("article_url", "")) for item in items if isinstance(item, Mapping)]
    raw = dict(job)
    if status == 0:
        return PublishResult(
            PublishState.PUBLISHED,
            external_id=str(job.get("article_id", "")),
            url=urls[0] if urls else "",
            raw=raw,
        )
    if status == 1:
        return PublishResult(PublishState.PROCESSING, external_id=publish_id, raw=raw)
    if status in PUBLISH_FAILURES:
        return PublishResult(
            PublishState.FAILED,
            external_id=str(job.get("article_id", "")) or publish_id,
            detail=PUBLISH_FAILURES[status],
            raw=raw,
        )
    raise TransientError(
        MSG_REFUSED, code=str(status), errcode=status, errmsg=f"publish_status {status}"
    )


def job_of_push(info: Mapping[str, Any]) -> dict[str, Any]:
    """A pushed ``PublishEventInfo`` in the shape of ``freepublish/get``'s answer."""
    detail = info.get("article_detail") or {}
    items = detail.get("item", []) if isinstance(detail, Mapping) else []
    fail_idx = info.get("fail_idx", [])
    return {
        "publish_id": info.get("publish_id", ""),
        "publish_status": info.get("publish_status", ""),
        "article_id": info.get("article_id", ""),
        "article_detail": {"item": items if isinstance(items, list) else [items]},
        "fail_idx": fail_idx if isinstance(fail_idx, list) else [fail_idx],
    }
