"""Fixes from a runner who is not online are refused without a database read per fix."""

from kilat.services.runner import live as live_module
from kilat.services.runner.repository import RunnerRepository
from tests.service.runner.support import KLCC, offset


async def test_an_offline_runner_streaming_fixes_costs_one_read_per_window(app, monkeypatch):
    headers, runner = await app.register()
    reads = []
    original = RunnerRepository.by_user

    async def counting(self, user_id, *args, **kwargs):
        reads.append(user_id)
        return await original(self, user_id, *args, **kwargs)

    monkeypatch.setattr(RunnerRepository, "by_user", counting)
    for step in range(20):
        app.clock.advance(0.05)
        response = await app.ping(headers, offset(KLCC, north_km=0.01 * step))
        assert response.status_code == 400
        assert response.json()["error"] == "runner must be online to update location"
    assert len(reads) == 1
    app.clock.advance(live_module.OFFLINE_MEMORY_SECONDS)
    assert (await app.ping(headers, KLCC)).status_code == 400
    assert len(reads) == 2
    # going online is seen at once, whatever the memory says
    monkeypatch.undo()
    assert (await app.online(headers, KLCC)).status_code == 200
    app.clock.advance(3)
    moved = await app.ping(headers, offset(KLCC, north_km=0.05))
    assert moved.json()["data"]["accepted"] is True


async def test_an_unknown_runner_is_remembered_too(app):
    headers = app.headers("runner")
    for _ in range(3):
        response = await app.ping(headers, KLCC)
        assert response.status_code == 404
