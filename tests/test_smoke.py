"""The shell works end to end: sign in, see the workspace, sign out."""

from fastapi.testclient import TestClient

from tests.conftest import sign_in


def test_anonymous_home_redirects_to_sign_in(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_owner_signs_in_and_sees_workspace(client, make_user, make_workspace) -> None:
    user = make_user("claire@example.com", name="Claire")
    make_workspace("provence-wines", owner=user)
    sign_in(client, "claire@example.com")
    page = client.get("/")
    assert page.status_code == 200
    assert "Provence Wines" in page.text
