"""The document camera (高拍仪) on the case page: shoot, turn, trim, upload as a scan.

Chromium here has no USB camera, so the page's getUserMedia is given a 640×480 canvas stream —
the code under test (camera.js, the upload, the server's check of the JPEG) is the real one.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from station.extensions import db
from station.models import Attachment
from tests.fixtures.browser import wait_until
from tests.station.test_rare_characters_page import _case_for

pytestmark = pytest.mark.browser

FAKE_CAMERA = """
(() => {
  const canvas = document.createElement("canvas");
  canvas.width = 640; canvas.height = 480;
  const ctx = canvas.getContext("2d");
  const paint = () => { ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, 640, 480);
                        ctx.fillStyle = "#000"; ctx.fillRect(40, 40, 200, 100); };
  paint(); setInterval(paint, 100);
  navigator.mediaDevices.getUserMedia = () => Promise.resolve(canvas.captureStream(10));
})();
"""


@pytest.mark.screens("camera")
def test_a_page_shot_with_the_document_camera_is_turned_trimmed_and_saved_as_a_scan(person, stack, shots):
    case_id = _case_for(stack.app, "王秀兰")
    page = person("agent")
    page.add_init_script(FAKE_CAMERA)
    page.goto(f"{stack.url}/cases/{case_id}")
    page.click("#camera-open")
    wait_until(page, "() => document.querySelector('[data-camera-video]').videoWidth > 0")
    page.click("#camera-shoot")
    page.click("#camera-rotate")
    page.locator("#camera-crop").fill("10")
    page.locator("#camera-preview").wait_for()
    shots.take(page, "shot-turned", full_page=True)
    page.click("#camera-use")
    page.locator("#camera-status", has_text="点“上传”保存").wait_for()  # toBlob answers asynchronously
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("text=扫描件已保存")

    with stack.app.app_context(), db.connection_context():
        [scan] = list(Attachment.select().where(Attachment.case == case_id))
    assert re.fullmatch(r"高拍仪-\d{14}\.jpg", scan.filename)
    data = page.request.get(f"{stack.url}/cases/{case_id}/attachments/{scan.id}").body()
    width, height = Image.open(io.BytesIO(data)).size
    assert (width, height) == (384, 512)  # 640×480 trimmed 10 % a side (512×384), turned a quarter
