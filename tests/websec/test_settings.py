"""The shared settings rules both apps start with: one reading of yes and no, and a value that cannot
work refused at start in Chinese rather than at the first page that uses it."""

from __future__ import annotations

import pytest
from flask import Flask, make_response

from websec.headers import install_headers


def _cookie_app(secure: object) -> Flask:
    """A bare app with the shared headers, its SESSION_COOKIE_SECURE given as an app that reads no
    settings file would take it (``with_overrides``), and a page that sets a cookie."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-only", SESSION_COOKIE_SECURE=secure)
    install_headers(app)

    @app.route("/font")
    def font():  # noqa: ANN202
        response = make_response("ok")
        response.set_cookie("large_font", "1")
        return response

    return app


@pytest.mark.parametrize(("written", "secure"), [
    ("否", False), ("no", False), ("0", False), ("off", False), ("false", False), (False, False),
    ("是", True), ("yes", True), ("1", True), ("on", True), (True, True),
])
def test_secure_cookie_setting_reads_yes_and_no_as_the_settings_do(written, secure):
    """headers.py had its own reading: "否" (and any word it did not know) forced Secure, so on a
    plain http:// station the browser kept no cookie and nobody could log in."""
    cookies = _cookie_app(written).test_client().get("/font").headers.getlist("Set-Cookie")
    assert cookies and all(("Secure" in c) is secure for c in cookies), cookies


def test_a_word_that_is_neither_does_not_force_secure_cookies():
    """Both apps refuse such a word at start (check_booleans); an app built without reading settings
    does not take it for yes."""
    cookies = _cookie_app("maybe").test_client().get("/font").headers.getlist("Set-Cookie")
    assert cookies and all("Secure" not in c for c in cookies)
