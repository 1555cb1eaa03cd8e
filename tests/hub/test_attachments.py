"""Attachments: check, resumable chunked upload, digest verification, per-station visibility."""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from pathlib import Path

import pytest

from sync import protocol
from sync.hub.services import attachments


def _file(size: int = 100_000) -> tuple[bytes, str]:
    data = os.urandom(size)
    return data, hashlib.sha256(data).hexdigest()


def _put(station, sha, data, start, total):
    end = start + len(data) - 1
    return station.request("PUT", f"/api/v1/attachments/{sha}", data, headers={
        "Content-Range": protocol.content_range(start, end, total), "Content-Type": "image/jpeg"})


def _status(station, sha):
    response = station.request("GET", f"/api/v1/attachments/{sha}/status")
    assert response.status_code == 200 and station.last_verified
    return response.json


def test_check_then_upload_in_two_chunks_resuming_from_status(hub_app, station_a):
    data, sha = _file()
    assert station_a.post_json("/api/v1/attachments/check", {"sha256": [sha]}).json["missing"] == [sha]
    first = _put(station_a, sha, data[:40_000], 0, len(data))
    assert first.status_code == 200 and first.json == {
        "sha256": sha, "received": 40_000, "total": len(data), "complete": False, "server_time": first.json[
            "server_time"]}
    # The link broke; the station asks where to resume.
    status = _status(station_a, sha)
    assert (status["received"], status["complete"]) == (40_000, False)
    second = _put(station_a, sha, data[status["received"]:], status["received"], len(data))
    assert second.status_code == 200 and second.json["complete"] is True and station_a.last_verified
    assert station_a.post_json("/api/v1/attachments/check", {"sha256": [sha]}).json["missing"] == []
    stored = os.path.join(hub_app.config["ATTACHMENT_DIR"], sha[:2], sha)
    with open(stored, "rb") as fh:
        assert data[:64] not in fh.read()  # sealed at rest
    with hub_app.app_context():
        assert attachments.read_plain(Path(stored)) == data


def test_retried_chunk_is_harmless(station_a):
    data, sha = _file(10_000)
    _put(station_a, sha, data[:6000], 0, len(data))
    again = _put(station_a, sha, data[:6000], 0, len(data))  # same chunk resent after a timeout
    assert again.status_code == 200 and again.json["received"] == 6000
    assert _put(station_a, sha, data[6000:], 6000, len(data)).json["complete"] is True


def test_gap_refused_with_resume_point(station_a):
    data, sha = _file(10_000)
    _put(station_a, sha, data[:3000], 0, len(data))
    response = _put(station_a, sha, data[5000:], 5000, len(data))
    assert response.status_code == 416 and response.json["received"] == 3000 and station_a.last_verified


def test_digest_mismatch_is_409_and_restarts(station_a):
    data, sha = _file(5000)
    wrong = bytes(b ^ 1 for b in data)
    response = _put(station_a, sha, wrong, 0, len(wrong))
    assert response.status_code == 409 and response.json["error"] == "digest_mismatch"
    assert _status(station_a, sha)["received"] == 0
    assert _put(station_a, sha, data, 0, len(data)).json["complete"] is True


def test_too_large_refused(hub_app, station_a):
    hub_app.config["MAX_ATTACHMENT_BYTES"] = 2000
    hub_app.extensions["hub_platform"].max_attachment_bytes = 2000
    data, sha = _file(1000)
    response = _put(station_a, sha, data, 0, 5000)  # announces a 5000-byte file
    assert response.status_code == 413
    big, big_sha = _file(3000)
    assert _put(station_a, big_sha, big, 0, len(big)).status_code == 413


def test_whole_file_without_content_range(station_a):
    data, sha = _file(2000)
    response = station_a.request("PUT", f"/api/v1/attachments/{sha}", data)
    assert response.status_code == 200 and response.json["complete"] is True


def test_other_station_cannot_see_or_query_my_files(station_a, station_b):
    data, sha = _file(4000)
    _put(station_a, sha, data, 0, len(data))
    partial, partial_sha = _file(4000)
    _put(station_a, partial_sha, partial[:1000], 0, len(partial))
    # B learns nothing about A's files: missing, nothing received.
    assert station_b.post_json("/api/v1/attachments/check", {"sha256": [sha]}).json["missing"] == [sha]
    status = _status(station_b, sha)
    assert (status["received"], status["total"], status["complete"]) == (0, None, False)
    assert _status(station_b, partial_sha)["received"] == 0
    # B proves possession by uploading the same bytes; only then is it B's too.
    assert _put(station_b, sha, data, 0, len(data)).json["complete"] is True
    assert station_b.post_json("/api/v1/attachments/check", {"sha256": [sha]}).json["missing"] == []


def test_bad_digest_in_path(station_a):
    response = station_a.request("GET", "/api/v1/attachments/NOT-A-SHA/status")
    assert response.status_code == 400


def test_clerk_downloads_case_attachment(hub_app, station_a, make_event, approver):
    from tests.fixtures.hub import case_snapshot

    data, sha = _file(3000)
    _put(station_a, sha, data, 0, len(data))
    event = make_event(payload=case_snapshot(attachments=[
        {"sha256": sha, "filename": "身份证.jpg", "size": len(data), "content_type": "image/jpeg"}]))
    station_a.results([event])
    page = approver.get(f"/cases/{event['case_id']}").get_data(as_text=True)
    assert "身份证.jpg" in page
    response = approver.get(f"/cases/{event['case_id']}/attachments/{sha}")
    assert response.status_code == 200 and response.data == data


def _attaching(make_event, sha: str, size: int, **over):
    from tests.fixtures.hub import case_snapshot

    return make_event(payload=case_snapshot(attachments=[
        {"sha256": sha, "filename": "户口簿.jpg", "size": size, "content_type": "image/jpeg"}]), **over)


def test_naming_another_stations_file_is_refused_and_not_linked(any_hub_app, make_station, make_event):
    from sync.hub.extensions import db
    from sync.hub.models import AttachmentLink, HubCase
    from tests.fixtures.hub import logged_in

    station_a = make_station(any_hub_app, "ST-A", "甲村便民服务站")
    station_b = make_station(any_hub_app, "ST-B", "乙村便民服务站")
    data, sha = _file(3000)
    _put(station_a, sha, data, 0, len(data))
    assert station_a.results([_attaching(make_event, sha, len(data))])[0]["status"] == "accepted"

    theirs = _attaching(make_event, sha, len(data))
    result = station_b.results([theirs])[0]  # B names A's digest without ever uploading it
    assert result["status"] == "rejected" and result["code"] == "not_your_file"
    assert result["retryable"] is False and "不是本站上传的" in result["reason"]
    with any_hub_app.app_context(), db.connection_context():
        assert not AttachmentLink.select().where(AttachmentLink.case_id == theirs["case_id"]).exists()
        assert not HubCase.select().where(HubCase.case_id == theirs["case_id"]).exists()
    approver = logged_in(any_hub_app, "clerk", "approver", "县级窗口")
    assert approver.get(f"/cases/{theirs['case_id']}/attachments/{sha}").status_code == 404


def test_a_station_links_the_same_bytes_once_it_uploads_them_itself(any_hub_app, make_station, make_event):
    station_a = make_station(any_hub_app, "ST-A", "甲村便民服务站")
    station_b = make_station(any_hub_app, "ST-B", "乙村便民服务站")
    data, sha = _file(3000)
    _put(station_a, sha, data, 0, len(data))
    _put(station_b, sha, data[:1000], 0, len(data))  # B holds a part of it: its own upload under way
    # an absurd size is only shown, never stored beyond its column
    assert station_b.results([_attaching(make_event, sha, 10**12)])[0]["status"] == "accepted"


def test_a_link_made_on_another_stations_digest_never_serves_its_file(hub_app, station_a, station_b, make_event,
                                                                      approver):
    """A link left from before the hub checked ownership: the download is refused, not A's scan."""
    from sync.hub.extensions import db
    from sync.hub.models import AttachmentLink, Station

    data, sha = _file(3000)
    _put(station_a, sha, data, 0, len(data))
    event = make_event()
    station_b.results([event])
    with hub_app.app_context(), db.connection_context():
        AttachmentLink.create(station=Station.by_code("ST-B"), case_id=event["case_id"], sha256=sha,
                              filename="冒用.jpg")
    assert approver.get(f"/cases/{event['case_id']}/attachments/{sha}").status_code == 404


@pytest.mark.skipif(sys.platform == "win32", reason="file modes: Windows keeps the folder with an ACL (docs/security.md)")
def test_a_scan_half_uploaded_is_readable_by_the_hubs_own_account_only(hub_app, station_a):
    """Until its last chunk arrives a scan waits plain (an ID card's photo): owner-only, as the sealed files are."""
    data, sha = _file()
    assert _put(station_a, sha, data[:40_000], 0, len(data)).status_code == 200
    [partial] = (Path(hub_app.config["ATTACHMENT_DIR"]) / "partial").iterdir()
    assert stat.S_IMODE(partial.stat().st_mode) == 0o600
    assert stat.S_IMODE(partial.parent.stat().st_mode) == 0o700
    assert _put(station_a, sha, data[40_000:], 40_000, len(data)).json["complete"] is True  # still resumes
