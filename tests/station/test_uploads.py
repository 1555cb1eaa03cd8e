"""A scan's type comes from its content: a real image or a PDF without scripts, kept and served as a
download under that type's extension, whatever its name or the browser claimed."""

from __future__ import annotations

import io

import pytest

from station.extensions import db
from station.models import Attachment, Case
from tests.fixtures.intake import form_for, item_named
from tests.fixtures.scans import JPEG, JPEG_HEADED_HTML, PDF, PDF_WITH_JS, PNG, pdf_bytes


@pytest.fixture
def case_id(app, agent) -> str:
    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        form = form_for([item])
    location = agent.post(f"/intake/item/{item.id}", form).headers["Location"]
    return location.split("/cases/")[1].split("?")[0]


def _upload(agent, case_id: str, data: bytes, name: str, mimetype: str = "image/jpeg"):  # noqa: ANN001, ANN202
    return agent.post(f"/cases/{case_id}/attachments", {"file": (io.BytesIO(data), name, mimetype)},
                      content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)


def _stored(app, case_id: str) -> list[Attachment]:
    with app.app_context(), db.connection_context():
        return list(Case.get_by_id(case_id).attachments)


def test_jpeg_bytes_holding_html_are_refused(app, agent, case_id):
    page = _upload(agent, case_id, JPEG_HEADED_HTML, "身份证.jpg")
    assert "不是一张完整的图片" in page
    assert _stored(app, case_id) == []


@pytest.mark.parametrize("pdf", [
    PDF_WITH_JS,
    pdf_bytes("/Names << /JavaScript 4 0 R >>", "4 0 obj << /Names [(a) 5 0 R] >> endobj\n"),
    pdf_bytes("/OpenAction 4 0 R", "4 0 obj << /S /#4A#53 /#4A#53 (app.alert(1)) >> endobj\n"),  # /JS spelled in hex
])
def test_pdf_with_javascript_is_refused_with_the_reason(app, agent, case_id, pdf):
    page = _upload(agent, case_id, pdf, "户口簿.pdf", "application/pdf")
    assert "PDF 文件含有脚本或自动动作" in page and "已拒收" in page
    assert _stored(app, case_id) == []


def test_a_pdf_hiding_javascript_in_a_compressed_stream_is_refused(app, agent, case_id):
    import zlib

    hidden = zlib.compress(b"<< /S /JavaScript /JS (app.alert(1)) >>")
    stream = f"4 0 obj << /Type /ObjStm /Length {len(hidden)} /Filter /FlateDecode >>\nstream\n"
    pdf = pdf_bytes("", stream + hidden.decode("latin-1") + "\nendstream\nendobj\n")
    assert "PDF 文件含有脚本" in _upload(agent, case_id, pdf, "scan.pdf", "application/pdf")


@pytest.mark.parametrize(("data", "name", "declared", "content_type", "stored_name"), [
    (PNG, "户口簿.html", "text/html", "image/png", "户口簿.png"),
    (JPEG, "身份证", "application/octet-stream", "image/jpeg", "身份证.jpg"),
    (PDF, "申请表.jpg", "image/jpeg", "application/pdf", "申请表.pdf"),
])
def test_type_comes_from_content_and_the_scan_downloads_under_it(app, agent, case_id, data, name, declared,
                                                                 content_type, stored_name):
    assert "扫描件已保存" in _upload(agent, case_id, data, name, declared)
    [attachment] = _stored(app, case_id)
    assert attachment.content_type == content_type and attachment.filename == stored_name
    download = agent.get(f"/cases/{case_id}/attachments/{attachment.id}")
    assert download.data == data and download.mimetype == content_type
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and stored_name.rsplit(".", 1)[1] in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
