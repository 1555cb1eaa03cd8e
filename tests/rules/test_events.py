"""Event kinds and the shape of each body: what the hub refuses before it files an event."""

from __future__ import annotations

import pytest

from rules import events
from rules.labels import EVENT_KINDS

SUBMITTED = {"case_no": "140000001001202611200001", "decision": "collected", "mode": "proxy",
             "applicant": {"name": "张三"}, "materials": [], "proxy": None, "bundle_code": None,
             "deadline_provisional": False, "a_key_from_a_newer_station": {"kept": True}}

#: What station/services/case_deadlines.py writes when the county's 2027 table moves a case's dates.
RECOUNT = {"reason": "county", "calendar_version": "2027.1", "provisional": False,
           "committed_due": "2027-01-04", "previous_committed_due": "2027-01-01",
           "statutory_due": "2027-01-19", "previous_statutory_due": "2027-01-18"}


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        (events.SUBMITTED, SUBMITTED),
        (events.MATERIALS_UPDATED, {"attachments": [{"sha256": "0" * 64}]}),
        (events.MATERIALS_UPDATED, {"authorization_signed": True}),
        (events.MATERIALS_UPDATED, {"materials": []}),
        (events.NOTE, {"text": "申请人来电询问进度", "by": "agent1"}),
        (events.NOTE, {"text": "节假日数据已更新，期限重新计算", "by": "系统", "recount": RECOUNT}),
        (events.NOTE, {"text": "期限重新计算", "recount": {**RECOUNT, "statutory_due": None, "previous_statutory_due": None}}),
        (events.STATUS_CHANGED, {"anything": 1}),
        ("case.from_the_future", "not even an object"),  # unknown kinds are answered elsewhere
    ],
)
def test_bodies_as_the_station_writes_them_pass(kind, payload):
    assert events.body_problem(kind, payload) is None


@pytest.mark.parametrize(
    ("kind", "payload", "reason"),
    [
        (events.SUBMITTED, [], "payload 须为 JSON 对象"),
        (events.SUBMITTED, {**SUBMITTED, "case_no": None}, "缺少 case_no"),
        (events.SUBMITTED, {k: v for k, v in SUBMITTED.items() if k not in ("decision", "applicant")},
         "缺少 decision、applicant"),
        (events.SUBMITTED, {**SUBMITTED, "applicant": "张三"}, "applicant 应为JSON 对象"),
        (events.SUBMITTED, {**SUBMITTED, "materials": {"id_card": "provided"}}, "materials 应为列表"),
        (events.SUBMITTED, {**SUBMITTED, "deadline_provisional": 1}, "deadline_provisional 应为true 或 false"),
        (events.MATERIALS_UPDATED, {}, "须包含 materials、attachments、authorization_signed 之一"),
        (events.MATERIALS_UPDATED, {"attachments": "x.pdf"}, "attachments 应为列表"),
        (events.NOTE, {"by": "agent1"}, "缺少 text"),
        (events.NOTE, {"text": 42}, "text 应为文字"),
        (events.NOTE, {"text": "重新计算", "recount": "2027-01-04"}, "recount 应为JSON 对象"),
        (events.NOTE, {"text": "重新计算", "recount": {**RECOUNT, "reason": None}}, "recount：缺少 reason"),
        (events.NOTE, {"text": "重新计算", "recount": {**RECOUNT, "committed_due": "2027-02-30"}},
         "recount.committed_due 应为日期"),
        (events.NOTE, {"text": "重新计算", "recount": {**RECOUNT, "provisional": "否"}}, "provisional 应为true 或 false"),
        (events.WITHDRAWN, {"requested_by": "applicant"}, "缺少 reason"),
        (events.WITHDRAWN, {"reason": "  ", "requested_by": "applicant"}, "须写明撤回原因"),
        (events.WITHDRAWN, {"reason": "不需要了", "requested_by": "neighbour"}, "requested_by 应为 applicant 或 proxy"),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused_with_a_reason_in_chinese(kind, payload, reason):
    problem = events.body_problem(kind, payload)
    assert problem is not None and reason in problem, problem


def test_every_kind_has_a_body_shape_and_a_name():
    assert set(events.BODIES) == events.KINDS == set(EVENT_KINDS)
    assert events.KINDS == {"case.submitted", "case.materials_updated", "case.status_changed", "case.note",
                            "case.delivered", "case.evaluated", "case.supplemented",
                            "case.originals_handover", "case.originals_packed", "case.commitment_unkept",
                            "case.withdrawn", "visit.recorded", "visit.case_taken"}  # the wire names never change


REUSED = {"verified_at": "2026-11-20T09:30:00", "verified_by": "王代办", "station_code": "ST141081102201",
          "station_name": "东关村便民服务站", "case_no": "141081102201202611200001", "valid_until": "2036-05-01"}
LICENCE = {"kind": "残疾人证", "number": "14108119560315002842", "issuer": "示范县残疾人联合会",
           "valid_until": "2031-01-01"}


@pytest.mark.parametrize("origin", [{"reused": REUSED}, {"licence": LICENCE}])
def test_a_material_row_carrying_its_verification_or_licence_passes(origin):
    row = {"key": "id_card", "name": "居民身份证", "status": "provided", **origin}
    assert events.body_problem(events.SUBMITTED, {**SUBMITTED, "materials": [row]}) is None


@pytest.mark.parametrize(
    ("origin", "words"),
    [
        ({"reused": {**REUSED, "verified_by": ""}}, "reused 缺少 verified_by"),
        ({"reused": {k: v for k, v in REUSED.items() if k != "station_code"}}, "reused 缺少 station_code"),
        ({"reused": "2026-11-20"}, "reused 应为JSON 对象"),
        ({"reused": {**REUSED, "rechecked": "yes"}}, "reused.rechecked 应为true 或 false"),
        ({"licence": {**LICENCE, "number": None}}, "licence 缺少 number"),
    ],
)
def test_a_reuse_without_its_original_verification_is_refused(origin, words):
    row = {"key": "id_card", "name": "居民身份证", "status": "provided", **origin}
    problem = events.body_problem(events.SUBMITTED, {**SUBMITTED, "materials": [row]})
    assert problem is not None and words in problem and "居民身份证" in problem
    assert events.body_problem(events.SUPPLEMENTED, {"supplied": [], "materials": [row]}) is not None


@pytest.mark.parametrize(("supplied", "words"), [
    (["hukou_book"], "supplied 每一项应为含 key 的 JSON 对象"),
    ([{"name": "居民户口簿"}], "supplied 每一项应为含 key 的 JSON 对象"),
    ([{"key": "hukou_book", "name": "居民户口簿", "supplied_as": 3}], "“居民户口簿”的 supplied_as 应为"),
])
def test_a_supplement_answer_whose_rows_are_not_objects_is_refused(supplied, words):
    """Such a row was taken, then broke the county's case page for every clerk who opened it."""
    good = {"key": "hukou_book", "name": "居民户口簿", "supplied_as": "original_seen", "note": ""}
    assert events.body_problem(events.SUPPLEMENTED, {"supplied": [good], "materials": []}) is None
    problem = events.body_problem(events.SUPPLEMENTED, {"supplied": [good, *supplied], "materials": []})
    assert problem is not None and words in problem


GROUP = "01JBUNDLE0000000000000000A"
MEMBER = {**SUBMITTED, "bundle_group": GROUP,
          "bundle": {"code": "B001", "name": "新生儿出生一件事", "group": GROUP, "query_code": "K7P2QX9M",
                     "position": 2, "size": 5}}


def test_a_bundle_member_as_the_station_writes_it_passes():
    assert events.body_problem(events.SUBMITTED, MEMBER) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"position": 6}, "bundle.position"),
        ({"position": 0}, "bundle.position"),
        ({"size": 1, "position": 1}, "bundle.position"),
        ({"group": "01JOTHERGROUP0000000000000"}, "bundle.group 与 bundle_group 不一致"),
        ({"query_code": " "}, "bundle.query_code 应为非空文字"),
        ({"size": "5"}, "bundle.size 应为整数"),
        ({"name": None}, "bundle.name"),
    ],
)
def test_a_bundle_membership_the_county_could_not_file_is_refused(change, message):
    body = {**MEMBER, "bundle": {**MEMBER["bundle"], **change}}
    assert message in events.body_problem(events.SUBMITTED, body)


def test_a_bundle_is_as_far_along_as_its_slowest_case():
    from rules.bundles import least_advanced

    assert least_advanced(["completed", "accepted", "delivered"]) == "accepted"
    assert least_advanced(["accepted", "supplement", "collected"]) == "supplement"
    assert least_advanced(["delivered", "from_a_newer_hub"]) == "from_a_newer_hub"
    assert least_advanced([]) == ""



def test_cross_area_codes_must_be_division_codes():
    from rules import events

    body = {"case_no": "1", "decision": "collected", "applicant": {"name": "张三"}}
    assert events.body_problem(events.SUBMITTED, {**body, "handling_area": "141082",
                                                  "received_area": "141081102201"}) is None
    assert "行政区划代码" in events.body_problem(events.SUBMITTED, {**body, "handling_area": "14108x"})
    assert "行政区划代码" in events.body_problem(events.SUBMITTED, {**body, "received_area": "1410811"})
