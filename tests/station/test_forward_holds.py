"""跨域办 at the station: the county's forward of a case to the handling county held, and over, as the
station pulls it (``case.forward_held``). The whole chain — station, county A, a handling county that
refuses, 重新转送 — is in tests/e2e/test_cross_area.py."""

from __future__ import annotations

from station.catalog_data import load_demo_catalog
from station.extensions import db
from station.models import TimelineEntry
from station.services.catalog import import_catalog
from station.sync_hooks import station_hooks
from sync import protocol
from sync.pull import apply_change
from tests.fixtures.intake import form_for, item_named


def _cross_area_case(app, agent) -> str:  # noqa: ANN001
    """A case of an item county B handles, taken at this station."""
    data = load_demo_catalog()
    data["catalog_version"] += "-cross"
    [raw] = [i for i in data["items"] if i["name"] == "高龄津贴申领"]
    raw.update(cross_area=True, handling_area="141082", handling_area_name="示范市邻县民政局")
    with app.app_context(), db.connection_context():
        import_catalog(data, source="hub")
        item = item_named("高龄津贴申领")
        form = form_for([item])
    return agent.post(f"/intake/item/{item.id}", form).headers["Location"].split("/cases/")[1].split("?")[0]


def _pull(app, change_id: int, case_id: str, payload: dict) -> None:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        apply_change(station_hooks(app), {"change_id": change_id, "kind": protocol.CHANGE_FORWARD_HELD,
                                          "case_id": case_id, "payload": payload})


def _lines(app, case_id: str) -> list[str]:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        return [e.message for e in TimelineEntry.select().where(
            (TimelineEntry.case == case_id) & TimelineEntry.action.startswith("forward_")).order_by(TimelineEntry.id)]


def test_the_case_page_says_the_handling_countys_transfer_is_held_until_the_county_says_it_went_through(app, agent):
    case_id = _cross_area_case(app, agent)
    assert 'id="forward-held"' not in agent.get(f"/cases/{case_id}").get_data(as_text=True)
    # a later county may add fields this release does not know: they are ignored, the hold is shown
    _pull(app, 1, case_id, {"held": True, "county": "邻县县级平台", "seq": 1, "reason_code": "bad_event",
                            "detail": {"any": "thing"}})
    _pull(app, 2, case_id, {"held": True, "county": "邻县县级平台", "seq": 1})  # said again: one line
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    held = page[page.index('id="forward-held"'):page.index("</dd>", page.index('id="forward-held"'))]
    assert "转送办理地（邻县县级平台）暂未成功，县级平台正在处理" in held and "无需重新收件" in held
    assert _lines(app, case_id) == ["转送办理地（邻县县级平台）暂未成功，县级平台正在处理"]
    _pull(app, 3, case_id, {"held": False, "county": "邻县县级平台", "seq": 1})
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="forward-held"' not in page and "转送办理地（邻县县级平台）已恢复，办件已送达办理地" in page


def test_a_hold_the_station_cannot_read_is_kept_for_a_person_and_another_devices_case_is_left_alone(
        app, agent, clerk):
    case_id = _cross_area_case(app, agent)
    _pull(app, 1, case_id, {"held": "yes", "county": "邻县县级平台"})
    _pull(app, 2, protocol.new_id(), {"held": True, "county": "邻县县级平台", "seq": 1})  # not a case held here
    assert _lines(app, case_id) == [] and 'id="forward-held"' not in agent.get(f"/cases/{case_id}").get_data(
        as_text=True)
    table = clerk.get("/sync/").get_data(as_text=True).split('id="pull-problems"')[1].split("</section>")[0]
    assert "<td>跨域办转送办理地</td>" in table and "跨域办转送状态无法识别" in table
    assert table.count("<td>跨域办转送办理地</td>") == 1  # the other device's case is no problem
