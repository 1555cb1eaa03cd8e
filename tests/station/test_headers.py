"""Every response of the station carries the safety headers: no sniffing, no framing, a strict CSP,
nothing with residents' data left in the browser cache, Secure cookies over HTTPS."""

from __future__ import annotations

import pytest

from tests.station.test_access import _url


def _every_route(app):  # noqa: ANN001, ANN202
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = "/static/app.css" if rule.endpoint == "static" else _url(rule)
            yield rule.endpoint, method, url


def assert_safety_headers(endpoint: str, response) -> None:  # noqa: ANN001
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff", endpoint
    assert headers.get("X-Frame-Options") == "DENY", endpoint
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, endpoint
    if response.mimetype == "text/html":
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp, endpoint
    if endpoint != "static":
        assert headers.get("Cache-Control") == "no-store", endpoint


@pytest.mark.parametrize("who", ["client", "agent", "admin"])
def test_every_route_answers_with_the_safety_headers(app, who, request):
    user = request.getfixturevalue(who)
    checked = 0
    for endpoint, method, url in _every_route(app):
        response = user.get(url) if method == "GET" else user.post(url)
        assert_safety_headers(endpoint, response)
        checked += 1
    assert checked > 30


def test_case_page_and_scan_are_not_cached(app, agent):
    page = agent.get("/cases/")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"


def test_cookies_are_secure_when_served_over_https(app):
    import re

    https = app.test_client()
    login_page = https.get("/login", base_url="https://station.example")
    cookies = login_page.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c for c in cookies)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page.get_data(as_text=True)).group(1)
    font = https.post("/large-font", base_url="https://station.example", data={"csrf_token": token},
                      headers={"Referer": "https://station.example/login"})  # CSRF checks it over HTTPS
    [large_font] = [c for c in font.headers.getlist("Set-Cookie") if c.startswith("large_font=")]
    assert "Secure" in large_font
    plain = app.test_client().get("/login").headers.getlist("Set-Cookie")
    assert plain and all("Secure" not in c for c in plain)


def test_secure_cookies_can_be_forced_by_setting(app, client):
    app.config["SESSION_COOKIE_SECURE"] = True
    cookies = client.client.get("/login").headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c for c in cookies)
