"""The front office through HTTP: search, intake form, case list and page, scans, admin pages."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest

from station.extensions import db
from station.models import Case, ServiceItem, User
from tests.fixtures.intake import BAD_CHECKSUM_ID, form_for, item_named, proxy_fields
from tests.fixtures.scans import PNG


def _item_id(app, name: str) -> int:
    with app.app_context(), db.connection_context():
        return item_named(name).id


def _form(app, name: str, **overrides: str) -> dict[str, str]:
    with app.app_context(), db.connection_context():
        return form_for([item_named(name)], **overrides)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("ylbx", "城乡居民基本医疗保险参保登记"), ("cxjmjbyl", "城乡居民基本养老保险参保登记"), ("养老", "城乡居民基本养老保险参保登记"),
     ("gljt", "高龄津贴申领"), ("xsecs", "新生儿出生一件事")],
)
def test_search_by_chinese_and_pinyin(agent, query, expected):
    page = agent.get(f"/catalog/?q={query}").get_data(as_text=True)
    assert expected in page


def test_live_search_answers_json(agent):
    data = agent.get("/catalog/search.json?q=ylbx", headers={"Accept": "application/json"}).get_json()
    assert any(r["name"] == "城乡居民基本医疗保险参保登记" for r in data["results"][:3])


def test_intake_through_the_form_redirects_to_the_case_with_its_decision(app, agent):
    item_id = _item_id(app, "高龄津贴申领")
    response = agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领"))
    assert response.status_code == 302
    page = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert "已收件，报县级部门受理" in page
    assert "110105********002X" in page
    assert "11010519491231002X" not in page  # the full number never reaches a screen
    assert "139****5678" in page


def test_failed_validation_keeps_everything_typed(app, agent):
    item_id = _item_id(app, "高龄津贴申领")
    data = _form(app, "高龄津贴申领", applicant_id_number=BAD_CHECKSUM_ID, applicant_name="钱<b>老汉</b>")
    page = agent.post(f"/intake/item/{item_id}", data).get_data(as_text=True)
    assert "校验" in page
    assert BAD_CHECKSUM_ID in page  # the agent corrects one digit instead of retyping
    assert "钱&lt;b&gt;老汉&lt;/b&gt;" in page  # residents' text is text, never markup
    assert "示范县东关镇东关村三组12号" in page
    assert 'value="provided" checked' in page
    with app.app_context(), db.connection_context():
        assert Case.select().count() == 0


def test_duplicate_warning_lets_the_agent_go_on_or_open_the_existing_case(app, agent):
    item_id = _item_id(app, "高龄津贴申领")
    data = _form(app, "高龄津贴申领")
    first = agent.post(f"/intake/item/{item_id}", data)
    assert first.status_code == 302
    warned = agent.post(f"/intake/item/{item_id}", data).get_data(as_text=True)
    assert "可能重复申请" in warned and "仍然保存" in warned
    with app.app_context(), db.connection_context():
        existing = Case.select().first()
        assert existing.case_no in warned
        assert Case.select().count() == 1
    again = agent.post(f"/intake/item/{item_id}", {**data, **_confirmation(warned)})
    assert again.status_code == 302
    with app.app_context(), db.connection_context():
        assert Case.select().count() == 2


def _confirmation(page: str) -> dict[str, object]:
    """The hidden fields the duplicate warning's 仍然保存 sends, as the page carries them."""
    form = page.split('id="intake-form"')[1]
    return {"confirm_duplicate": re.search(r'name="confirm_duplicate" value="([^"]*)"', form).group(1),
            "seen_duplicate": re.findall(r'name="seen_duplicate" value="([^"]*)"', form)}


def test_the_confirmed_form_sent_twice_makes_one_more_case_not_two(app, agent):
    """仍然保存 clicked again on a slow link (or the form sent again from the back button): the second
    copy met a duplicate the agent never saw and was saved as a third case for the same resident."""
    item_id = _item_id(app, "高龄津贴申领")
    data = _form(app, "高龄津贴申领")
    agent.post(f"/intake/item/{item_id}", data)
    confirmed = {**data, **_confirmation(agent.post(f"/intake/item/{item_id}", data).get_data(as_text=True))}
    assert agent.post(f"/intake/item/{item_id}", confirmed).status_code == 302
    twice = agent.post(f"/intake/item/{item_id}", confirmed)
    assert twice.status_code == 200
    warned = twice.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        numbers = [c.case_no for c in Case.select()]
    assert len(numbers) == 2
    assert "可能重复申请" in warned and all(number in warned for number in numbers)  # the one just saved too
    assert len(_confirmation(warned)["seen_duplicate"]) == 2  # now seen: 仍然保存 would save a third on purpose


def test_proxy_intake_and_bundle_intake_via_http(app, agent):
    item_id = _item_id(app, "城乡居民基本养老保险参保登记")
    due = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    data = _form(app, "城乡居民基本养老保险参保登记", **proxy_fields(),
                 **{"mat__photo_1inch__status": "deferred", "mat__photo_1inch__due": due})
    page = agent.get(agent.post(f"/intake/item/{item_id}", data).headers["Location"]).get_data(as_text=True)
    assert "容缺收件" in page and "<dt>办理方式</dt><dd>代办</dd>" in page
    with app.app_context(), db.connection_context():
        from station.services.catalog import get_bundle

        _bundle, items = get_bundle("B005")
        bundle_data = form_for(items)
    response = agent.post("/intake/bundle/B005", bundle_data)
    assert response.status_code == 302
    with app.app_context(), db.connection_context():
        assert Case.select().where(Case.bundle_code == "B005").count() == 3


def test_case_list_filters_and_masks(app, agent):
    item_id = _item_id(app, "高龄津贴申领")
    agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领"))
    page = agent.get("/cases/?status=collected").get_data(as_text=True)
    assert "110105********002X" in page and "11010519491231002X" not in page
    assert "共 1 件" in agent.get("/cases/?q=赵秀英").get_data(as_text=True)
    assert "共 0 件" in agent.get("/cases/?status=completed").get_data(as_text=True)
    assert "共 0 件" in agent.get("/cases/?overdue=1").get_data(as_text=True)
    assert "未知的办件状态" in agent.get("/cases/?status=bogus").get_data(as_text=True)


def test_overdue_cases_are_marked_red(app, agent):
    item_id = _item_id(app, "高龄津贴申领")
    response = agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领"))
    with app.app_context(), db.connection_context():
        Case.update(committed_due=dt.date.today() - dt.timedelta(days=3)).execute()
    page = agent.get("/cases/?overdue=1").get_data(as_text=True)
    assert "共 1 件" in page and "row-overdue" in page and "已超期" in page
    assert response.status_code == 302


def test_scans_are_type_and_size_checked_and_stay_with_their_case(app, agent):
    item_id = _item_id(app, "高龄津贴申领")
    location = agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领")).headers["Location"]
    case_id = location.split("/cases/")[1].split("?")[0]
    ok = agent.post(f"/cases/{case_id}/attachments", {"file": (io.BytesIO(PNG), "户口簿.png")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert "扫描件已保存" in ok.get_data(as_text=True)
    bad = agent.post(f"/cases/{case_id}/attachments", {"file": (io.BytesIO(b"MZ\x90\x00evil"), "scan.png")},
                     content_type="multipart/form-data", follow_redirects=True)
    assert "只能上传" in bad.get_data(as_text=True)
    app.config["MAX_ATTACHMENT_BYTES"] = 100
    big = agent.post(f"/cases/{case_id}/attachments", {"file": (io.BytesIO(PNG + b"\x00" * 200), "big.png")},
                     content_type="multipart/form-data", follow_redirects=True)
    assert "文件太大" in big.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        attachment = Case.get_by_id(case_id).attachments.get()
    download = agent.get(f"/cases/{case_id}/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == PNG
    assert agent.get(f"/cases/OTHERCASE/attachments/{attachment.id}").status_code == 404


def test_large_font_mode_is_remembered(agent):
    response = agent.post("/large-font", {"next": "/cases/"})
    assert response.headers["Location"] == "/cases/"
    assert 'class="large-font"' in agent.get("/").get_data(as_text=True)


def test_admin_adds_and_disables_users_with_clear_messages(admin):
    refused = admin.post("/admin/users", {"username": "ag", "name": "", "role": "agent", "password": "123"})
    assert refused.status_code == 400  # refused as every other form is: 400, the message, nothing made
    assert "请输入姓名。" in refused.get_data(as_text=True)  # the form's own checks come first …
    refused = admin.post("/admin/users", {"username": "ag", "name": "周代办", "role": "agent", "password": "pass-word-9"})
    assert refused.status_code == 400
    assert "用户名为3–40位字母、数字或 _ . -。" in refused.get_data(as_text=True)  # … then the service's
    ok = admin.post("/admin/users", {"username": "agent9", "name": "周代办", "role": "agent", "password": "pass-word-9"},
                    follow_redirects=True)
    assert "已添加用户 agent9" in ok.get_data(as_text=True)
    dup = admin.post("/admin/users", {"username": "agent9", "name": "周代办", "role": "agent", "password": "pass-word-9"})
    assert "该用户名已存在" in dup.get_data(as_text=True)


def test_a_new_users_phone_that_cannot_be_dialled_is_refused_and_no_account_made(app, admin):
    # the agent's work phone is printed on every receipt for the resident to call back
    page = admin.post("/admin/users", {"username": "agent8", "name": "钱代办", "role": "agent", "phone": "abc",
                                       "password": "pass-word-8"}).get_data(as_text=True)
    assert "电话号码只能填写数字和“-”" in page and "已添加用户" not in page
    with app.app_context(), db.connection_context():
        assert not User.select().where(User.username == "agent8").exists()
    ok = admin.post("/admin/users", {"username": "agent8", "name": "钱代办", "role": "agent",
                                     "phone": "138 0000 1234", "password": "pass-word-8"}, follow_redirects=True)
    assert "已添加用户 agent8" in ok.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert User.get(User.username == "agent8").phone == "13800001234"


def test_a_refused_holiday_answers_400_with_its_message_and_changes_nothing(app, admin):
    refused = admin.post("/admin/holidays", {"day": "2027-10-01", "is_workday": "0", "name": ""})
    assert refused.status_code == 400
    assert "请填写名称。" in refused.get_data(as_text=True)
    refused = admin.post("/admin/holidays", {"day": "", "is_workday": "0", "name": "国庆节"})
    assert refused.status_code == 400 and "请选择日期。" in refused.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        from station.services.calendar import load_calendar

        assert load_calendar().is_workday(dt.date(2027, 10, 1))  # a Friday, still a working day
    assert admin.get("/admin/holidays").status_code == 200  # the page itself, not refused


def test_admin_edits_the_holiday_table(app, admin):
    page = admin.post("/admin/holidays", {"day": "2027-01-01", "is_workday": "0", "name": "元旦"},
                      follow_redirects=True).get_data(as_text=True)
    assert "元旦" in page
    with app.app_context(), db.connection_context():
        from station.services.calendar import load_calendar

        assert not load_calendar().is_workday(dt.date(2027, 1, 1))


def test_admin_station_settings_refuse_a_bad_area_code(admin):
    refused = admin.post("/admin/station", {"code": "ST1", "name": "站", "level": "village", "area_code": "123"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "服务站编码为4–30位字母、数字或短横线。" in page
    assert "区划代码应为12位数字（县6位＋乡镇3位＋村3位），现在是“123”，请核对" in page


def test_catalog_refresh_keeps_open_cases_on_their_version(app, agent):
    from station.catalog_data import load_demo_catalog
    from station.services.catalog import import_catalog

    item_id = _item_id(app, "高龄津贴申领")
    agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领"))
    data = load_demo_catalog()
    data["catalog_version"] = "2027.01"
    data["items"][0]["name"] = "城乡居民基本养老保险参保登记（新版）"
    with app.app_context(), db.connection_context():
        import_catalog(data, "hub")
        case = Case.select().first()
        assert case.item.catalog.version == "2026.11-demo"
        assert ServiceItem.select().where(ServiceItem.name.endswith("（新版）")).count() == 1
    assert "（新版）" in agent.get("/catalog/?q=yanglao").get_data(as_text=True)


def test_resident_checks_progress_with_the_query_code_without_seeing_personal_numbers(app, agent, client):
    item_id = _item_id(app, "高龄津贴申领")
    agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领", **{"mat__hukou_book__status": "missing"}))
    with app.app_context(), db.connection_context():
        case = Case.select().first()
    page = client.get(f"/q?q={case.query_code.lower()}").get_data(as_text=True)
    assert case.case_no in page and "未收件" in page and "户口簿" in page
    assert "赵*英" in page and "赵秀英" not in page
    assert "110105" not in page and "13912345678" not in page
    assert "没有找到这个查询码" in client.get("/q?q=ZZZZZZZZ").get_data(as_text=True)


@pytest.mark.parametrize("url", [
    "/cases/?page=99999999999999999999", "/cases/?agent=99999999999999999999", "/cases/?page=-3&agent=x",
    "/intake/item/99999999999999999999", "/catalog/items/99999999999999999999",
])
def test_absurd_numbers_get_a_page_not_a_crash(agent, url):
    assert agent.get(url).status_code in (200, 404)


@pytest.mark.parametrize("url", ["/admin/holidays?year=0", "/admin/holidays?year=99999", "/admin/users/99999999999999999999/active"])
def test_absurd_numbers_on_admin_pages(admin, url):
    response = admin.get(url) if "active" not in url else admin.post(url)
    assert response.status_code in (200, 404, 405)


@pytest.mark.parametrize(("who", "method", "url"), [
    ("admin", "get", "/admin/access-log?from=2026-13-45"),
    ("admin", "post", "/admin/holidays/2026-13-45/delete"),
    ("clerk", "get", "/ledger.pdf?day=2026-13-45"),
])
def test_a_bad_date_is_refused_with_todays_date_as_the_example(request, who, method, url):
    client = request.getfixturevalue(who)
    page = getattr(client, method)(url, follow_redirects=True).get_data(as_text=True)
    assert f"日期格式有误，应为 {dt.date.today().isoformat()} 这样的日期。" in page


def test_authorization_printed_then_signed_is_recorded_and_synced(app, agent):
    from sync.outbox import OutboxEvent
    from tests.fixtures.intake import proxy_fields

    item_id = _item_id(app, "城乡居民基本养老保险参保登记")
    location = agent.post(f"/intake/item/{item_id}",
                          _form(app, "城乡居民基本养老保险参保登记", **proxy_fields(authorization="print"))).headers["Location"]
    case_id = location.split("/cases/")[1].split("?")[0]
    assert "登记为已签署" in agent.get(f"/cases/{case_id}").get_data(as_text=True)
    page = agent.post(f"/cases/{case_id}/authorization", follow_redirects=True).get_data(as_text=True)
    assert "委托书已签署" in page and "登记为已签署" not in page
    with app.app_context(), db.connection_context():
        kinds = [e.kind for e in OutboxEvent.select().where(OutboxEvent.case_id == case_id).order_by(OutboxEvent.seq)]
    assert kinds == ["case.submitted", "case.materials_updated"]
    again = agent.post(f"/cases/{case_id}/authorization", follow_redirects=True).get_data(as_text=True)
    assert "已登记为签署" in again


def test_a_name_search_counts_and_pages_newest_first(app, agent):
    from stdnum.cn import ric

    item_id = _item_id(app, "高龄津贴申领")
    for n in range(7):  # seven residents whose names contain 秀英
        body = f"14108119{40 + n:02d}0101{n:03d}"
        number = body + ric.calc_check_digit(body + "0")
        response = agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领", applicant_id_number=number))
        assert response.status_code == 302
    with app.app_context(), db.connection_context():
        ids = [c.id for c in Case.select().order_by(Case.id)]
        assert len(ids) == 7
        base = dt.datetime(2026, 11, 2, 9, 0)
        for n, case_id in enumerate(ids):  # two share one second: the id breaks the tie, as in SQL
            Case.update(received_at=base + dt.timedelta(minutes=min(n, 5))).where(Case.id == case_id).execute()
        newest_first = [c.id for c in Case.select().order_by(Case.received_at.desc(), Case.id.desc())]
        query_code = Case.get_by_id(ids[2]).query_code
    app.config["CASES_PER_PAGE"] = 3
    pages = [agent.get(f"/cases/?q=秀英&page={n}").get_data(as_text=True) for n in (1, 2, 3, 4)]
    assert all("共 7 件" in page for page in pages)
    shown = [[case_id for case_id in newest_first if f"/cases/{case_id}" in page] for page in pages]
    assert shown == [newest_first[0:3], newest_first[3:6], newest_first[6:7], []]
    for page, ids_on_page in zip(pages[:3], shown[:3], strict=True):  # in that order on the page, too
        assert sorted(ids_on_page, key=page.index) == ids_on_page
    by_code = agent.get(f"/cases/?q={query_code.lower()}").get_data(as_text=True)
    assert "共 1 件" in by_code and f"/cases/{ids[2]}" in by_code


def test_station_area_code_follows_the_intake_rule(database):
    from station.services import station_info
    from station.services.errors import ValidationFailed

    assert station_info.update_profile(area_code=" １４１０８１１０２２０１ ").area_code == "141081102201"
    with pytest.raises(ValidationFailed) as refused:
        station_info.update_profile(area_code="14108110220", name="改名")
    assert "区划代码应为12位数字" in refused.value.errors["area_code"]
    assert station_info.get_profile().area_code == "141081102201" and station_info.get_profile().name != "改名"


def test_a_linked_stations_code_cannot_be_changed_to_another(app, admin):
    """The county knows the station by the linked code; batch numbers carry the profile's: they must agree."""
    from station.services import station_info
    from sync.transport import HubLink

    with app.app_context(), db.connection_context():
        HubLink("http://127.0.0.1:9", "ST141081102201", "s" * 40).save()
        form = {**station_info.get_profile().__dict__, "code": "ST141081102210"}
    page = admin.post("/admin/station", {k: v or "" for k, v in form.items()})
    assert page.status_code in (200, 400) and "本站已用编码 ST141081102201 连接县级平台" in page.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert station_info.get_profile().code == "ST141081102201"


def test_a_provided_material_reads_on_the_case_page_as_on_paper(app, agent):
    """The same word on the screen as on the receipt (the paper side is in tests/rules/test_labels.py)."""
    item_id = _item_id(app, "高龄津贴申领")
    response = agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领"))
    page = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert "<td>已提交</td>" in page


def test_a_scan_over_the_request_limit_returns_to_its_case_with_the_limit_named(app, agent):
    item_id = _item_id(app, "高龄津贴申领")
    location = agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领")).headers["Location"]
    case_id = location.split("/cases/")[1].split("?")[0]
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = agent.post(f"/cases/{case_id}/attachments", {"file": (io.BytesIO(PNG + b"\x00" * 5000), "big.png")},
                          content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case_id}")
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "文件太大：超过 10 MB 上限" in page and "返回首页" not in page.split("文件太大")[1][:200]
    with app.app_context(), db.connection_context():
        assert Case.get_by_id(case_id).attachments.count() == 0


@pytest.mark.parametrize("url", [
    "/appointments/?day=9999-12-31",  # its 后一天 link fell off the calendar
    "/appointments/?day=0001-01-01",  # and its 前一天
    "/ledger.pdf?day=9999-12-31",
    "/reports/?period=month&day=9999-12-31",
    "/reports/ledger.csv?period=week&day=9999-12-31",
])
def test_a_day_off_the_calendar_in_the_address_is_refused_in_chinese_not_a_500(clerk, url):
    response = clerk.get(url, follow_redirects=True)
    assert response.status_code == 200
    assert "日期须在 1900 年至 2100 年之间" in response.get_data(as_text=True)


def test_the_catalog_page_says_in_chinese_where_each_version_came_from(admin):
    """The 来源 column showed the stored word (demo, file, hub)."""
    from station.catalog_data import load_demo_catalog

    catalog = load_demo_catalog()
    catalog["catalog_version"] = "9" + str(catalog["catalog_version"])
    data = json.dumps(catalog, ensure_ascii=False).encode("utf-8")
    assert admin.post("/admin/catalog", {"file": (io.BytesIO(data), "catalog.json")},
                      content_type="multipart/form-data").status_code == 302
    rows = admin.get("/admin/catalog").get_data(as_text=True).split("<tbody>")[1].split("</tbody>")[0]
    assert "<td>文件导入</td>" in rows and "<td>演示目录</td>" in rows
    assert ">file<" not in rows and ">demo<" not in rows


def test_a_note_too_long_is_refused_and_what_was_typed_stays_in_the_box(app, agent):
    """A refused note came back as an empty box: a long account of the resident's situation was gone."""
    from sync.outbox import OutboxEvent

    item_id = _item_id(app, "高龄津贴申领")
    case_url = agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领")).headers["Location"].split("?")[0]
    with app.app_context(), db.connection_context():
        events_before = OutboxEvent.select().count()
    long_note = "申请人女儿说明家庭情况：" + "老人独居，行动不便。" * 60
    refused = agent.post(f"{case_url}/notes", {"text": long_note})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "备注最多500字" in page
    box = page.split('<textarea id="text"')[1].split("</textarea>")[0]
    assert box.startswith(' maxlength="500" name="text"') and box.endswith(f">\r\n{long_note}")
    with app.app_context(), db.connection_context():
        assert OutboxEvent.select().count() == events_before
    assert long_note not in agent.get(case_url).get_data(as_text=True)  # nothing was saved


def test_an_item_another_county_handles_says_so_before_and_after_intake(app, agent):
    """跨域办: only the printed receipt named the county that decides; the search, the item, the form and
    the case page did not, so the agent could not tell the resident where her application goes."""
    from station.catalog_data import load_demo_catalog
    from station.services.catalog import import_catalog

    data = load_demo_catalog()
    data["catalog_version"] += "-cross"
    [raw] = [i for i in data["items"] if i["name"] == "高龄津贴申领"]
    raw.update(cross_area=True, handling_area="141082", handling_area_name="示范市邻县民政局")
    with app.app_context(), db.connection_context():
        import_catalog(data, source="hub")  # as the county's catalog arrives
        item_id = item_named("高龄津贴申领").id
        other_id = item_named("城乡居民基本养老保险参保登记").id
    found = agent.get("/catalog/?q=gljt").get_data(as_text=True)
    assert "跨域办 · 办理地 示范市邻县民政局" in found
    assert "办理地：示范市邻县民政局" in agent.get(f"/catalog/items/{item_id}").get_data(as_text=True)
    form_page = agent.get(f"/intake/item/{item_id}").get_data(as_text=True)
    assert "“高龄津贴申领”由示范市邻县民政局审批" in form_page
    case_url = agent.post(f"/intake/item/{item_id}", _form(app, "高龄津贴申领")).headers["Location"]
    assert "收件地：本站；办理地：示范市邻县民政局" in agent.get(case_url).get_data(as_text=True)
    # what goes to the county says where it was taken (code and name: the handling county's resident
    # page sends her back here) and which county handles it
    from station.services.station_info import get_profile
    from sync.outbox import OutboxEvent
    with app.app_context(), db.connection_context():
        body = OutboxEvent.get(OutboxEvent.case_id == case_url.split("?")[0].rsplit("/", 1)[-1]).payload
        here = get_profile()
    assert (body["received_area"], body["received_station_name"], body["received_station_code"],
            body["handling_area"]) == (here.area_code, here.name, here.code, "141082")
    assert here.code  # the code county B's provincial export names as 受理服务站编码
    assert 'id="cross-area' not in agent.get(f"/intake/item/{other_id}").get_data(as_text=True)  # a local item
