"""A poison message: the handler fails on every delivery, so after the retry limit the event is
parked in the consumer's dead-letter store, where an admin lists it and replays it once fixed."""

from __future__ import annotations

import asyncio
import json
import time

import asyncpg

from tests.e2e import journey as j
from tests.e2e.platform import wait_until
from tests.faults import checks
from tests.faults.conftest import FAULT_ENV, FaultRig

DEAD_LETTERS = "/api/v1/admin/events/notification/dead-letters"


def _notification_db(rig: FaultRig) -> str:
    url = json.loads(rig.platform.env["KILAT_DATABASE_URLS"])["notification"]
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _sql(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def poison(rig: FaultRig, owner_id: str) -> None:
    """Make storing this owner's booking.requested notification fail, as a bug would."""
    asyncio.run(_sql(_notification_db(rig), f"""
        CREATE OR REPLACE FUNCTION fault_poison() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN RAISE EXCEPTION 'poisoned by the fault test'; END $$;
        CREATE TRIGGER fault_poison BEFORE INSERT ON notifications FOR EACH ROW
          WHEN (NEW.user_id = '{owner_id}' AND NEW.event_type = 'booking.requested')
          EXECUTE FUNCTION fault_poison();"""))


def cure(rig: FaultRig) -> None:
    asyncio.run(_sql(_notification_db(rig), "DROP TRIGGER IF EXISTS fault_poison ON notifications"))


def letter_for(admin: j.User, booking_id: str) -> dict | None:
    letters = j.body(admin.get(DEAD_LETTERS, params={"replayed": "false", "limit": 100}))
    return next((d for d in letters if d["type"] == "booking.requested"
                 and d["payload"]["data"]["booking_id"] == booking_id), None)


def test_a_poison_message_is_dead_lettered_after_the_retry_limit_and_replayed_once_fixed(
        rig: FaultRig, record_property):
    platform = rig.platform
    owner, admin = j.register(platform.url, "owner"), j.admin(platform)
    poison(rig, owner.id)
    try:
        booking_id = j.create_booking(owner)["id"]
        created_at = time.monotonic()
        letter = wait_until(lambda: letter_for(admin, booking_id), timeout=40, interval=0.3,
                            message="booking.requested parked as a dead letter")
        checks.observe(record_property, "dead_lettered_after_seconds",
                       round(time.monotonic() - created_at, 1))
        checks.observe(record_property, "attempts", letter["attempts"])
        assert letter["attempts"] == int(FAULT_ENV["KILAT_EVENT_MAX_DELIVERIES"])
        assert "poisoned by the fault test" in letter["error"]
        assert "booking.requested" not in checks.notification_counts(owner, booking_id)

        replay = f"{DEAD_LETTERS}/{letter['id']}/replay"
        assert owner.get(DEAD_LETTERS).status_code == 403, "only admins see dead letters"
        still_failing = admin.post(replay)
        assert still_failing.status_code == 422, still_failing.text
        assert still_failing.json()["error"] == "replay failed"
        assert letter_for(admin, booking_id) is not None, "a failed replay leaves it pending"
    finally:
        cure(rig)

    replayed = j.body(admin.post(replay))
    assert replayed["applied"] is True and replayed["event_id"] == letter["event_id"]
    assert checks.notification_counts(owner, booking_id)["booking.requested"] == 1
    assert letter_for(admin, booking_id) is None
    again = admin.post(replay)
    assert again.status_code == 409, "a dead letter is replayed once"
    assert checks.notification_counts(owner, booking_id)["booking.requested"] == 1
