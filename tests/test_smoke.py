def test_login_then_logout_refuses_copied_cookie(client, factory):
    user = factory.customer()
    client.login(user)
    assert client.get("/").status_code == 200
    cookie = client.http.get_cookie("session")
    assert cookie is not None
    copied = cookie.value
    client.post("/logout")
    # a second browser presents the cookie copied before logout
    other = client.app.test_client()
    other.set_cookie("session", copied)
    resp = other.get("/")
    assert resp.status_code == 302 and resp.location.startswith("/login")
