def test_login_page_served_to_anonymous(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "登录便民服务站" in response.get_data(as_text=True)


def test_agent_lands_on_home(agent):
    page = agent.get("/").get_data(as_text=True)
    assert "示范县东关镇东关村便民服务站" in page
    assert "王代办" in page
