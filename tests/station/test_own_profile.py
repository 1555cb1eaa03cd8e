"""The agent as 代办人 fills from her own profile (issue 19 item 8)."""

from __future__ import annotations

from station.extensions import db
from station.models import User
from tests.fixtures.intake import AGENT_ID, BAD_CHECKSUM_ID, item_named


def test_her_own_id_number_is_stored_sealed_and_fills_the_proxy_fields(app, agent):
    page = agent.post("/profile", {"id_number": AGENT_ID, "phone": "13800000001"}, follow_redirects=True)
    assert "141081********0018" in page.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        me = User.get(User.username == "agent")
        stored = db.execute_sql('SELECT id_number_stored FROM "user" WHERE id = ?', (me.id,)).fetchone()[0]
        item_id = item_named("高龄津贴申领").id
    assert stored and AGENT_ID not in stored  # sealed at rest
    form = agent.get(f"/intake/item/{item_id}").get_data(as_text=True)
    assert f'id="proxy_id_number" name="proxy_id_number" value="{AGENT_ID}"' in form
    assert 'id="proxy_name" name="proxy_name" value="王代办"' in form
    assert 'id="proxy_phone" name="proxy_phone" value="13800000001"' in form


def test_a_bad_number_is_refused_with_a_chinese_message_and_changes_nothing(app, agent):
    agent.post("/profile", {"id_number": AGENT_ID, "phone": "13800000001"})
    response = agent.post("/profile", {"id_number": BAD_CHECKSUM_ID, "phone": "13800000009"})
    assert response.status_code == 400 and "校验" in response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        me = User.get(User.username == "agent")
        assert me.phone == "13800000001"
    assert "141081********0018" in agent.get("/profile").get_data(as_text=True)


def test_a_key_rotation_reseals_her_number_too(app, agent):
    from station.services import protection, users

    agent.post("/profile", {"id_number": AGENT_ID, "phone": ""})
    with app.app_context(), db.connection_context():
        before = User.get(User.username == "agent").id_number_stored
        ring = protection.rotate_key(app.config["ATTACHMENT_DIR"])
        me = User.get(User.username == "agent")
        assert me.id_number_stored != before and not ring.needs_resealing(me.id_number_stored)
        assert users.own_id_number(me) == AGENT_ID
