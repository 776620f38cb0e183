"""Path and query strings follow the same text rule as bodies: 400 with the envelope."""

from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Query

from kilat.platform.http import install_error_handlers
from kilat.platform.schemas import storable_params


async def region(area: Annotated[str | None, Query()] = None) -> str | None:
    return area


def guarded_app() -> FastAPI:
    app = FastAPI(dependencies=[Depends(storable_params)])
    install_error_handlers(app)

    @app.get("/files/{key:path}")
    async def file(key: str, q: str | None = None, where: str | None = Depends(region)) -> dict:
        return {"key": key, "q": q, "where": where}

    return app


async def fetch(url: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=guarded_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(url)


@pytest.mark.parametrize(("url", "message"), [
    ("/files/a%00b", "key: must not contain NUL"),
    ("/files/ok?q=%00", "q: must not contain NUL"),
    ("/files/ok?area=x%07", "area: must not contain control characters"),
    ("/files/ok?q=fine&q=%1b", "q: must not contain control characters"),
])
async def test_path_and_declared_query_strings_with_control_characters_are_400(url, message):
    response = await fetch(url)
    assert response.status_code == 400
    body = response.json()
    assert (body["success"], body["detail"]) == (False, "") and body["error"].startswith(message)


async def test_ordinary_text_and_undeclared_parameters_pass():
    response = await fetch("/files/photos/a%20b.jpg?q=tab%09ok&area=KL&utm=%00")
    assert response.status_code == 200
    assert response.json() == {"key": "photos/a b.jpg", "q": "tab\tok", "where": "KL"}
