def test_login_page_renders(client):
    resp = client.get("/login")
    assert resp.status_code == 200
    assert "Inloggen" in resp.get_data(as_text=True)


def test_anonymous_goes_to_login(client):
    resp = client.get("/")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


def test_backoffice_sees_start(client, backoffice):
    resp = client.get("/")
    assert resp.status_code == 200
    assert "Goedendag" in resp.get_data(as_text=True)
